package postgres

// Translate exposes translate to the black-box tests.
var Translate = translate
