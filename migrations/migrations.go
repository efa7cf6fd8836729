// Package migrations embeds the numbered SQL migrations of the connector's
// database, applied by goose (`aglae-connector migrate`) and by the tests.
//
// Each file holds an Up and a Down section and runs in one transaction.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
