// Package sqlstore is a store.Store on PostgreSQL, through pgx, for many
// processes sharing one database.
package sqlstore
