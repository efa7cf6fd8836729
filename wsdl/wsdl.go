// Package wsdl embeds the connector's WSDL, the contract of its SOAP
// interface; gowsdl generates the Go types of internal/soap/wsconnecteur
// from it (`make generate`).
package wsdl

import _ "embed"

// Connecteur is the WSDL of the consulterBoursier and consulterBoursiers
// operations.
//
//go:embed connecteur.wsdl
var Connecteur []byte
