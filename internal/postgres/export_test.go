package postgres

// Translate exposes translate to the black-box tests.
var Translate = translate

// SQLBatch exposes the batch lookup's statement to the black-box tests.
const SQLBatch = sqlBatch
