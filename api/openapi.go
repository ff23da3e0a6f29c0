package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the API's contract: an OpenAPI 3.0 document of every
// route, its parameters, request bodies and answers, written by hand.
// openapi_test.go checks the routes against it both ways and validates
// real requests and answers with it.
//
//go:embed openapi.json
var openAPIDocument []byte

// serveOpenAPI answers GET /openapi.json: the document.
func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument)
}
