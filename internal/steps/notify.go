package steps

import "github.com/finsight/finsight/internal/notify"

// ErrNotifyRejected is the error type of a notification that no retry will
// deliver: every channel still owed it refused it for good (an SMTP 5xx, a
// webhook 4xx) or cannot work as configured.
const ErrNotifyRejected = "NotifyRejected"

// NotifyInput is one event to deliver on every configured channel.
type NotifyInput struct {
	notify.Event
	// MaxAttempts is the attempt count of the activity's retry policy: the
	// attempt that reaches it and fails records the delivery as failed
	// (earlier ones as retrying). 0: unknown.
	MaxAttempts int32 `json:"max_attempts,omitempty"`
}

// NotifyResult says where the event went.
type NotifyResult struct {
	EventID  string          `json:"event_id"`
	Status   string          `json:"status"` // sent, or off (no channel configured on the worker)
	Channels []ChannelResult `json:"channels,omitempty"`
	Attempt  int32           `json:"attempt"` // the activity attempt that delivered it
}

// ChannelResult is one channel's delivery of an event.
type ChannelResult struct {
	Channel string `json:"channel"` // email, webhook
	Status  string `json:"status"`  // sent, already sent (by an earlier attempt)
	Note    string `json:"note,omitempty"`
}
