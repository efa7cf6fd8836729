package postgres

// Translate exposes translate to the black-box tests.
var Translate = translate

// SQLBatch exposes the batch lookup's statement to the black-box tests.
const SQLBatch = sqlBatch

// WithLots makes an import merge lots of n dossiers and call afterLot
// after each one with the number merged so far.
func WithLots(opts ImportOptions, n int, afterLot func(lots int)) ImportOptions {
	opts.lot, opts.afterLot = n, afterLot
	return opts
}

// DossierTableColumns are the columns of aglae.dossier the import writes
// from the extract.
var DossierTableColumns = dossierTableColumns

// AppendQuoted exposes appendQuoted to the black-box tests.
var AppendQuoted = appendQuoted
