package main

import (
	"context"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// hasSearchAttributes reports whether the namespace knows the search
// attributes the pipelines set (Ticker, Stage, ModelVersion). Workflows only
// set them when it does, so a server without them still runs pipelines.
func hasSearchAttributes(ctx context.Context, c client.Client, namespace string) bool {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false
	}
	for _, name := range []string{"Ticker", "Stage", "ModelVersion"} {
		if _, ok := resp.GetCustomAttributes()[name]; !ok {
			return false
		}
	}
	return true
}
