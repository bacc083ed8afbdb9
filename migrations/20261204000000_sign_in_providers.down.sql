DROP TABLE user_identities;
DROP TABLE auth_providers;
