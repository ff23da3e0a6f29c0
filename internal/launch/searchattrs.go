package launch

import (
	"context"

	"go.temporal.io/api/operatorservice/v1"
)

// OperatorClient is what HasSearchAttributes needs of a Temporal client.
type OperatorClient interface {
	OperatorService() operatorservice.OperatorServiceClient
}

// HasSearchAttributes reports whether the namespace knows the search
// attributes the pipelines set (Ticker, Stage, ModelVersion). Workflows only
// set them when it does, so a server without them still runs pipelines.
func HasSearchAttributes(ctx context.Context, c OperatorClient, namespace string) bool {
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
