DROP TABLE discord_role_connections;
