// Package wsconnecteur holds the Go types and client that gowsdl v0.5.0
// generates from wsdl/connecteur.wsdl. Do not edit connecteur.go: change the
// WSDL and run `make generate`.
package wsconnecteur
