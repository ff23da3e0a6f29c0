package runs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/finsight/finsight/internal/blob"
)

// Statuses of a notification.
const (
	NotifySending  = "sending"  // handed to its delivery workflow; no attempt has finished yet
	NotifyRetrying = "retrying" // the last attempt failed; the delivery retries
	NotifySent     = "sent"     // delivered on every channel
	NotifyFailed   = "failed"   // given up: out of attempts, refused for good, or not started
	NotifyOff      = "off"      // the worker has no channel configured
)

// Notification is one event a run told people about and how its delivery
// went. The run saves it as sending (with the workflow that delivers it);
// the delivery writes its outcome to runs/<id>/notifications/, and Read
// shows the latest.
type Notification struct {
	Event    string    `json:"event"` // the event id: <workflow id>/<run id>/<kind>[/<detail>]
	Kind     string    `json:"kind"`
	Workflow string    `json:"workflow,omitempty"` // the Notification workflow delivering it
	Status   string    `json:"status"`
	Channels []string  `json:"channels,omitempty"` // where it was delivered
	Attempts int32     `json:"attempts,omitempty"` // delivery attempts made
	Error    string    `json:"error,omitempty"`    // the last delivery error (secrets redacted)
	At       time.Time `json:"at"`
}

// notificationRel is where, under the run's notifications/ folder, the
// files of an event live: its id without the run's own (workflow) id.
func notificationRel(id, event string) string {
	return "notifications/" + strings.TrimPrefix(event, id+"/")
}

// NotificationKey is the outcome of an event's delivery (JSON).
func NotificationKey(id, event string) string { return Key(id, notificationRel(id, event)+".json") }

// NotificationSentKey marks an event delivered on channel: written
// create-if-absent after the delivery, so a retry does not deliver again.
func NotificationSentKey(id, event, channel string) string {
	return Key(id, notificationRel(id, event)+"."+channel+".sent")
}

// WriteNotification stores the outcome of an event's delivery.
func WriteNotification(ctx context.Context, s blob.Store, id string, n Notification) error {
	return blob.PutJSON(ctx, s, NotificationKey(id, n.Event), n)
}

// withNotifications replaces each notification of r that a delivery has
// recorded since by that record (the workflow that delivers it kept).
// A record that cannot be read leaves the entry as saved.
func withNotifications(ctx context.Context, s blob.Store, r *Record) {
	if len(r.Notifications) == 0 {
		return
	}
	out := make([]Notification, len(r.Notifications))
	for i, n := range r.Notifications {
		out[i] = n
		if n.Status != NotifySending && n.Status != NotifyRetrying {
			continue
		}
		var got Notification
		if err := blob.GetJSON(ctx, s, NotificationKey(r.ID, n.Event), &got); err != nil {
			if !errors.Is(err, blob.ErrNotFound) {
				out[i].Error = "outcome unreadable: " + err.Error()
			}
			continue
		}
		if got.Workflow == "" {
			got.Workflow = n.Workflow
		}
		out[i] = got
	}
	r.Notifications = out
}
