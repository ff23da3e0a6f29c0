package runs

import (
	"context"
	"testing"

	"github.com/finsight/finsight/internal/blob"
)

// Read shows each notification as its delivery last recorded it; entries
// without a recorded outcome stay as the run saved them, and the outcome
// files sit under the run's notifications/ folder, not among its stats.
func TestReadShowsNotificationOutcomes(t *testing.T) {
	ctx := context.Background()
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const id = "train-NFLX-1"
	failed, promoted := id+"/run-1/failed", id+"/run-1/file_rejected/abc"
	rec := Record{ID: id, Status: StatusFailed, Notifications: []Notification{
		{Event: failed, Kind: "failed", Workflow: "w1", Status: NotifySending},
		{Event: promoted, Kind: "file_rejected", Workflow: "w2", Status: NotifySending},
	}}
	if err := Write(ctx, s, rec); err != nil {
		t.Fatal(err)
	}
	if err := WriteNotification(ctx, s, id, Notification{Event: failed, Kind: "failed", Status: NotifySent, Channels: []string{"email"}, Attempts: 3}); err != nil {
		t.Fatal(err)
	}
	if got, want := NotificationKey(id, promoted), "runs/train-NFLX-1/notifications/run-1/file_rejected/abc.json"; got != want {
		t.Fatalf("key %s, want %s", got, want)
	}
	if got, want := NotificationSentKey(id, failed, "email"), "runs/train-NFLX-1/notifications/run-1/failed.email.sent"; got != want {
		t.Fatalf("marker %s, want %s", got, want)
	}
	r, err := Read(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Notifications[0]; n.Status != NotifySent || n.Attempts != 3 || n.Workflow != "w1" {
		t.Fatalf("delivered entry reads %+v", n)
	}
	if n := r.Notifications[1]; n.Status != NotifySending || n.Workflow != "w2" {
		t.Fatalf("pending entry reads %+v", n)
	}
	if stats, err := ReadStats(ctx, s, id); err != nil || len(stats) != 0 {
		t.Fatalf("stats %v, %v", stats, err)
	}
	if list, err := List(ctx, s, ""); err != nil || len(list) != 1 {
		t.Fatalf("List: %d runs, %v", len(list), err)
	}
}
