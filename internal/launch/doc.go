// Package launch starts, inspects and steers FinSight's workflows the same
// way from the starter and from the HTTP API: it puts a request's CSV into
// the store, builds a training request's input and workflow id (so the
// same request from either attaches to one run), starts the pipeline,
// reports a workflow's status through its progress query, and queues the
// notification of a rollback. The starter prints what it returns; the API
// answers it as JSON.
package launch
