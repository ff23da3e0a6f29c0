package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/devserver"
)

// On a bucket, a CSV uploaded under inbox/NFLX/ is retrained as soon as
// Cloud Storage's Pub/Sub push reaches POST /hooks/gcs; the push arriving
// again, and the schedule's scan afterwards, retrain nothing more; a push
// for another bucket is refused and starts nothing.
func TestStorageHookRetrainsABucketUpload(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t)
	store, _ := newFakeGCSStore(t)
	s := startStackOn(t, srv, store)
	s.trainBase(t, "NFLX", nflxUntil2021(t), smallBase)

	a := api.New(store, gotch.CPU)
	defer a.Close()
	const token = "hook-secret"
	if err := a.EnableGCSHook(api.HookConfig{Token: token, Bucket: e2eBucket, Prefix: e2ePrefix, TaskQueue: s.queue, Starter: s.c}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()

	s.drop(t, "NFLX", "NFLX_2022_new.csv", nflx2022(t))
	object := e2ePrefix + "/inbox/NFLX/NFLX_2022_new.csv"
	if code := postPush(t, hs.URL, token, pushEnvelope(t, "someone-elses-bucket", object, "1")); code != http.StatusForbidden {
		t.Fatalf("a push for another bucket answered %d, want 403", code)
	}
	if _, err := s.status(t, "NFLX"); err == nil {
		t.Fatal("a refused push started the ticker workflow")
	}
	env := pushEnvelope(t, e2eBucket, object, "1700000000000001")
	if code := postPush(t, hs.URL, token, env); code != http.StatusAccepted {
		t.Fatalf("the push answered %d, want 202", code)
	}
	st := s.waitRetrains(t, "NFLX", 1, 10*time.Minute)
	if o := retrains(st)[0]; o.Error != "" || o.Version != 2 {
		t.Fatalf("retrain from the hook: %+v, want v2", o)
	}
	if code := postPush(t, hs.URL, token, env); code != http.StatusAccepted { // Pub/Sub delivers at least once
		t.Fatalf("the redelivered push answered %d, want 202", code)
	}
	if scanned := s.scan(t); len(scanned.HandedOff) != 0 {
		t.Fatalf("the schedule's scan after the hook handed off %+v again", scanned.HandedOff)
	}
	time.Sleep(2 * time.Second)
	if st, err := s.status(t, "NFLX"); err != nil || len(retrains(st)) != 1 || st.Running != nil || len(st.Queue) != 0 {
		t.Fatalf("after the redelivery and a scan: %+v (%v), want still one retrain", st, err)
	}
	if ok, _ := store.Exists(context.Background(), "inbox/NFLX/NFLX_2022_new.csv"); ok {
		t.Fatal("the bucket object is still in the inbox")
	}
}

// pushEnvelope is a Pub/Sub push request of a Cloud Storage OBJECT_FINALIZE
// notification, as Google sends it.
func pushEnvelope(t *testing.T, bucket, object, generation string) []byte {
	t.Helper()
	resource, err := json.Marshal(map[string]any{
		"kind": "storage#object", "id": bucket + "/" + object + "/" + generation, "name": object, "bucket": bucket,
		"generation": generation, "metageneration": "1", "contentType": "text/csv", "size": "18234",
		"timeCreated": "2026-12-01T09:30:12.345Z", "updated": "2026-12-01T09:30:12.345Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"attributes": map[string]string{
				"notificationConfig": "projects/_/buckets/" + bucket + "/notificationConfigs/1",
				"eventType":          "OBJECT_FINALIZE", "payloadFormat": "JSON_API_V1",
				"bucketId": bucket, "objectId": object, "objectGeneration": generation, "eventTime": "2026-12-01T09:30:12.345678Z",
			},
			"data":      base64.StdEncoding.EncodeToString(resource),
			"messageId": "2070443601311540", "publishTime": "2026-12-01T09:30:12.901Z",
		},
		"subscription": "projects/finsight/subscriptions/inbox-push",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func postPush(t *testing.T, base, token string, body []byte) int {
	t.Helper()
	resp, err := http.Post(base+"/hooks/gcs?token="+token, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
