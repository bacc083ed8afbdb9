DROP TABLE settings;
DROP TABLE instance;
