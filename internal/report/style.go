package report

import (
	"crypto/sha256"
	"encoding/base64"
)

// style is the report's one inline <style> block, verbatim: the page is a
// self-contained file that also opens from the store, and the API's
// Content-Security-Policy allows exactly this text by its hash (StyleHash).
const style = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;max-width:1100px;color:#222}
header.top{display:flex;flex-wrap:wrap;gap:1em;align-items:baseline;border-bottom:1px solid #ddd;padding:0 0 .5em;margin:0 0 1em}
header.top a{color:#06c;text-decoration:none}header.top a:hover{text-decoration:underline}
header.top a.brand{font-weight:bold;color:#222}header.top a.ext{margin-left:auto}
h1{font-size:1.4em;margin:0 0 .5em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}.bad{color:#b00}.good{color:#070}
figure{margin:1em 0 1.5em}figcaption{font-weight:bold;margin:0 0 .3em}
img{max-width:100%;height:auto;border:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2em}pre{white-space:pre-wrap;overflow-wrap:anywhere}
`

// StyleHash is the CSP source of the report's inline style block,
// 'sha256-<base64>', for a Content-Security-Policy style-src that allows
// that block and no other inline style.
func StyleHash() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
