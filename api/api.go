// Package api holds the OpenAPI 3 description of the connector's REST API,
// served at GET /openapi.yaml.
package api

import _ "embed" // for go:embed

// OpenAPI is the OpenAPI document of the REST API (api/openapi.yaml).
//
//go:embed openapi.yaml
var OpenAPI []byte
