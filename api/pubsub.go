package api

import (
	"encoding/json"
	"errors"
	"fmt"
)

// pushRequest is the body of a Pub/Sub push delivery:
// {"message": {...}, "subscription": "projects/P/subscriptions/S"}.
// Unknown fields (message_id, publish_time, deliveryAttempt, ...) are
// allowed: Google adds fields over time.
type pushRequest struct {
	Message      *pushMessage `json:"message"`
	Subscription string       `json:"subscription"`
}

// pushMessage is a Pub/Sub message as pushed: its data is base64 in JSON
// (encoding/json decodes it into the bytes).
type pushMessage struct {
	Attributes  map[string]string `json:"attributes"`
	Data        []byte            `json:"data"`
	MessageID   string            `json:"messageId"`
	PublishTime string            `json:"publishTime"`
}

// Attributes of a Cloud Storage notification message.
const (
	attrBucket     = "bucketId"
	attrObject     = "objectId"
	attrEvent      = "eventType"
	attrGeneration = "objectGeneration"
	attrFormat     = "payloadFormat"
)

// payloadJSON is the payload format whose data is the object's JSON API
// resource.
const payloadJSON = "JSON_API_V1"

// notification is the part of a Cloud Storage notification the hook reads.
type notification struct {
	Bucket       string
	Object       string // the object's full name in the bucket
	Event        string // OBJECT_FINALIZE, OBJECT_DELETE, ...
	Generation   string // "" when neither the attributes nor the data say
	MessageID    string
	Subscription string
}

// parsePush reads a Cloud Storage notification out of a Pub/Sub push body.
// The bucket, object and event attributes are required; the generation is
// taken from the attributes, else from the object resource in the data.
func parsePush(body []byte) (notification, error) {
	var req pushRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return notification{}, fmt.Errorf("malformed push request: %w", err)
	}
	if req.Message == nil {
		return notification{}, errors.New("push request without message")
	}
	attrs := req.Message.Attributes
	if len(attrs) == 0 {
		return notification{}, errors.New("push message without attributes: not a Cloud Storage notification")
	}
	for _, a := range []string{attrBucket, attrObject, attrEvent} {
		if attrs[a] == "" {
			return notification{}, fmt.Errorf("push message without attribute %s: not a Cloud Storage notification", a)
		}
	}
	n := notification{
		Bucket:       attrs[attrBucket],
		Object:       attrs[attrObject],
		Event:        attrs[attrEvent],
		Generation:   attrs[attrGeneration],
		MessageID:    req.Message.MessageID,
		Subscription: req.Subscription,
	}
	if n.Generation == "" && attrs[attrFormat] == payloadJSON {
		n.Generation = resourceGeneration(req.Message.Data)
	}
	return n, nil
}

// resourceGeneration is the generation in an object's JSON API resource
// ("" if data is not one).
func resourceGeneration(data []byte) string {
	var obj struct {
		Generation json.Number `json:"generation"` // a string in the JSON API, tolerated as a number
	}
	if json.Unmarshal(data, &obj) != nil {
		return ""
	}
	return obj.Generation.String()
}
