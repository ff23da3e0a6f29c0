package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/handoff"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/steps"
)

// Inbox layout, under pipeline.InboxPrefix:
//
//	inbox/<TICKER>/<name>.csv                 dropped by people (or a bucket upload)
//	inbox/<TICKER>/<name>.json                optional format sidecar (frame.CSVFormat as JSON:
//	                                          {"columns":{"date":"Day",...},"date_format":"DD/MM/YYYY"}),
//	                                          dropped before the CSV; moved along with it
//	inbox/<TICKER>/processed/<sha12>_<name>   handed on (or a duplicate of what was)
//	inbox/<TICKER>/rejected/<name>            failed validation, with <name>.reason.json beside it
//	inbox-claims/<TICKER>/<sha256>.json       one per content: written create-if-absent
const claimsPrefix = "inbox-claims/"

// claimStale is how long a claim may sit without its hand-off before
// another scan takes the file over (the first scan's worker died).
const claimStale = 2 * time.Minute

// inboxClaim records who took a content hash and whether it was handed on.
type inboxClaim struct {
	Key       string    `json:"key"`      // the inbox object first seen with this content
	Claimant  string    `json:"claimant"` // workflow run + activity id of the scan
	At        time.Time `json:"at"`       // when claimed
	HandedOff bool      `json:"handed_off"`
	Workflow  string    `json:"workflow,omitempty"` // the ticker workflow it went to
}

// ScanInbox lists inbox/<TICKER>/*.csv (or only in.Keys) and hands each
// file whose content it has not seen before to its ticker's workflow:
// upload under its content hash, claim the hash (create-if-absent), signal
// with start, mark the claim handed off, move the file to processed/. The
// same bytes under any name, dropped any number of times or seen by two
// scans at once, are handed on once. Each step is idempotent, so a retried
// scan finishes what a failed one began.
func (a *Activities) ScanInbox(ctx context.Context, in pipeline.InboxInput) (pipeline.InboxResult, error) {
	if a.Temporal == nil {
		return pipeline.InboxResult{}, invalid(steps.ErrInvalidParams, nil, "this worker has no Temporal client to hand files on with")
	}
	keys := in.Keys
	if len(keys) == 0 {
		var err error
		if keys, err = a.Store.List(ctx, pipeline.InboxPrefix); err != nil {
			return pipeline.InboxResult{}, fmt.Errorf("list %s: %w", pipeline.InboxPrefix, err)
		}
	}
	info := activity.GetInfo(ctx)
	claimant := info.WorkflowExecution.RunID + "/" + info.ActivityID
	target := handoff.Target{TaskQueue: info.TaskQueue, Device: in.Device, SearchAttributes: in.SearchAttributes}
	var out pipeline.InboxResult
	for _, key := range keys {
		activity.RecordHeartbeat(ctx, key)
		f, err := a.scanOne(ctx, key, claimant, target)
		if err != nil {
			return out, err
		}
		switch f.Note {
		case noteSidecar:
		case "handed off":
			out.HandedOff = append(out.HandedOff, f)
		case "duplicate":
			out.Duplicates = append(out.Duplicates, f)
		default:
			if len(in.Keys) > 0 || !inSubfolder(key) { // a full listing passes over rejected/ and processed/ quietly
				out.Skipped = append(out.Skipped, f)
			}
		}
	}
	return out, nil
}

// inSubfolder: key lies below inbox/<TICKER>/ (rejected/, processed/).
func inSubfolder(key string) bool {
	return strings.Count(strings.TrimPrefix(key, pipeline.InboxPrefix), "/") > 1
}

// inboxFile splits inbox/<TICKER>/<name> into its ticker and name; ok is
// false for anything else (sub-folders, other extensions).
func inboxFile(key string) (ticker, name string, ok bool) {
	rest, found := strings.CutPrefix(key, pipeline.InboxPrefix)
	parts := strings.Split(rest, "/")
	if !found || len(parts) != 2 || !strings.EqualFold(path.Ext(parts[1]), ".csv") {
		return "", "", false
	}
	t, err := pipeline.NormalizeTicker(parts[0])
	if err != nil {
		return "", "", false
	}
	return t, parts[1], true
}

func (a *Activities) scanOne(ctx context.Context, key, claimant string, target handoff.Target) (pipeline.InboxFile, error) {
	ticker, name, ok := inboxFile(key)
	f := pipeline.InboxFile{Key: key, Ticker: ticker}
	if !ok && isSidecar(key) {
		f.Note = noteSidecar
		return f, nil
	}
	if !ok {
		f.Note = "not an inbox/<TICKER>/<name>.csv file"
		return f, nil
	}
	b, err := blob.GetBytes(ctx, a.Store, key)
	if errors.Is(err, blob.ErrNotFound) {
		f.Note = "gone (moved by another scan)"
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", key, err)
	}
	f.SHA256 = blob.ContentHash(b)
	format, sidecar, err := a.readSidecar(ctx, key)
	if err != nil {
		return f, err
	}
	if sidecar.problem != "" {
		f.Note = sidecar.problem // left in place until the sidecar is fixed
		return f, nil
	}
	d := pipeline.NewData{SHA256: f.SHA256, Format: format, Source: "inbox", Name: name, InboxKey: key}
	csvKey := pipeline.UploadKey(f.SHA256)
	if err := a.Store.PutIfAbsent(ctx, csvKey, bytes.NewReader(b)); err != nil && !errors.Is(err, blob.ErrExists) {
		return f, fmt.Errorf("upload %s: %w", key, err)
	}
	claimKey := claimsPrefix + ticker + "/" + d.Identity() + ".json"
	c, mine, err := a.claim(ctx, claimKey, inboxClaim{Key: key, Claimant: claimant, At: time.Now().UTC()})
	if err != nil {
		return f, err
	}
	switch {
	case c.HandedOff:
		f.Note = "duplicate"
		return f, a.moveProcessed(ctx, key, f.SHA256, sidecar)
	case !mine:
		f.Note = "being handed on by another scan (" + c.Claimant + ")"
		return f, nil
	}
	d.CSVKey, d.Arrived = csvKey, time.Now().UTC()
	run, err := handoff.ToTicker(ctx, a.Temporal, target, ticker, d)
	if err != nil {
		return f, err
	}
	c.HandedOff, c.Workflow = true, pipeline.TickerWorkflowID(ticker)+"/"+run
	if err := blob.PutJSON(ctx, a.Store, claimKey, c); err != nil {
		return f, fmt.Errorf("mark %s handed off: %w", claimKey, err)
	}
	f.Note = "handed off"
	return f, a.moveProcessed(ctx, key, f.SHA256, sidecar)
}

// noteSidecar marks a format sidecar in a scan's listing (not reported).
const noteSidecar = "format sidecar"

// sidecarKey is the format sidecar of an inbox CSV: the same name with
// .json for .csv.
func sidecarKey(csvKey string) string {
	return strings.TrimSuffix(csvKey, path.Ext(csvKey)) + ".json"
}

// isSidecar: key is a .json file directly in inbox/<TICKER>/.
func isSidecar(key string) bool {
	rest, found := strings.CutPrefix(key, pipeline.InboxPrefix)
	return found && strings.Count(rest, "/") == 1 && strings.EqualFold(path.Ext(key), ".json")
}

// sidecarFile is what a scan found beside a CSV.
type sidecarFile struct {
	key     string // "" when there is none
	sha     string
	problem string // why it cannot be used, for the scan's listing
}

// readSidecar reads the CSV's format sidecar, if there is one.
func (a *Activities) readSidecar(ctx context.Context, csvKey string) (frame.CSVFormat, sidecarFile, error) {
	var format frame.CSVFormat
	key := sidecarKey(csvKey)
	b, err := blob.GetBytes(ctx, a.Store, key)
	if errors.Is(err, blob.ErrNotFound) {
		return format, sidecarFile{}, nil
	}
	if err != nil {
		return format, sidecarFile{}, fmt.Errorf("read %s: %w", key, err)
	}
	s := sidecarFile{key: key, sha: blob.ContentHash(b)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&format); err != nil {
		s.problem = fmt.Sprintf("format sidecar %s is not valid JSON of the form {\"columns\":{\"date\":\"Day\"},\"date_format\":\"DD/MM/YYYY\"}: %v", path.Base(key), err)
	} else if err := format.Validate(); err != nil {
		s.problem = fmt.Sprintf("format sidecar %s: %v", path.Base(key), err)
	}
	return format, s, nil
}

// moveProcessed moves a handed-on CSV, and its sidecar, to processed/.
func (a *Activities) moveProcessed(ctx context.Context, key, sha string, sidecar sidecarFile) error {
	if err := a.moveObject(ctx, key, processedKey(key, sha), sha); err != nil {
		return err
	}
	if sidecar.key == "" {
		return nil
	}
	return a.moveObject(ctx, sidecar.key, processedKey(sidecar.key, sha), sidecar.sha)
}

// claim takes claimKey for c (create-if-absent). It returns the claim that
// stands and whether it is this scan's to hand on: newly written, written
// by this scan's earlier attempt, or stale and not handed on.
func (a *Activities) claim(ctx context.Context, claimKey string, c inboxClaim) (inboxClaim, bool, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return c, false, fmt.Errorf("encode claim: %w", err)
	}
	err = a.Store.PutIfAbsent(ctx, claimKey, bytes.NewReader(b))
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, blob.ErrExists) {
		return c, false, fmt.Errorf("claim %s: %w", claimKey, err)
	}
	var have inboxClaim
	if err := blob.GetJSON(ctx, a.Store, claimKey, &have); err != nil {
		return c, false, fmt.Errorf("read claim %s: %w", claimKey, err)
	}
	if have.HandedOff {
		return have, false, nil
	}
	if have.Claimant == c.Claimant || c.At.Sub(have.At) > claimStale {
		have.Claimant, have.At = c.Claimant, c.At
		return have, true, nil
	}
	return have, false, nil
}

// processedKey is where a handed-on inbox file goes.
func processedKey(key, sha string) string {
	dir, name := path.Split(key)
	return dir + "processed/" + sha[:12] + "_" + name
}

// rejectedKey is where an inbox file that failed validation goes.
func rejectedKey(key string) string {
	dir, name := path.Split(key)
	return dir + "rejected/" + name
}

// moveObject copies src to dst and deletes src when src holds the content
// sha; a missing src (moved already) or one with other content (a new file
// dropped under the same name since) is left alone.
func (a *Activities) moveObject(ctx context.Context, src, dst, sha string) error {
	b, err := blob.GetBytes(ctx, a.Store, src)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("move %s: %w", src, err)
	}
	if blob.ContentHash(b) != sha {
		return nil
	}
	if err := blob.PutBytes(ctx, a.Store, dst, b); err != nil {
		return fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	if err := a.Store.Delete(ctx, src); err != nil {
		return fmt.Errorf("move %s: delete: %w", src, err)
	}
	return nil
}

// RejectFiles moves each rejected inbox file (from processed/, or from the
// inbox if it was not moved yet) to inbox/<TICKER>/rejected/<name> and
// writes <name>.reason.json beside it. Files that did not come from the
// inbox are left alone. A rejected content stays claimed, so it is never
// retried by the scan; a corrected file (other bytes) is new.
func (a *Activities) RejectFiles(ctx context.Context, in steps.RejectInput) (steps.RejectResult, error) {
	out := steps.RejectResult{Moved: map[string]string{}}
	for _, f := range in.Files {
		if f.InboxKey == "" {
			continue
		}
		var why pipeline.FileOutcome
		for _, o := range in.Why {
			if o.SHA256 == f.SHA256 {
				why = o
			}
		}
		dst := rejectedKey(f.InboxKey)
		reason := struct {
			File     string    `json:"file"`
			SHA256   string    `json:"sha256"`
			Reason   string    `json:"reason"`
			Rejected time.Time `json:"rejected_at"`
			Workflow string    `json:"workflow"`
		}{f.Name, f.SHA256, why.Reason, time.Now().UTC(), activity.GetInfo(ctx).WorkflowExecution.ID}
		if err := blob.PutJSON(ctx, a.Store, dst+".reason.json", reason); err != nil {
			return out, fmt.Errorf("write rejection reason of %s: %w", f.InboxKey, err)
		}
		for _, src := range []string{processedKey(f.InboxKey, f.SHA256), f.InboxKey} {
			if err := a.moveObject(ctx, src, dst, f.SHA256); err != nil {
				return out, err
			}
		}
		out.Moved[f.SHA256] = dst
	}
	return out, nil
}

// HandOff signals (with start) the ticker's TickerRetrainer on this
// worker's task queue.
func (a *Activities) HandOff(ctx context.Context, in steps.HandOffInput) (steps.HandOffResult, error) {
	if a.Temporal == nil {
		return steps.HandOffResult{}, invalid(steps.ErrInvalidParams, nil, "this worker has no Temporal client to hand data on with")
	}
	target := handoff.Target{TaskQueue: activity.GetInfo(ctx).TaskQueue, Device: in.Device, SearchAttributes: in.SearchAttributes}
	run, err := handoff.ToTicker(ctx, a.Temporal, target, in.Ticker, in.Data)
	if err != nil {
		return steps.HandOffResult{}, err
	}
	return steps.HandOffResult{WorkflowID: pipeline.TickerWorkflowID(in.Ticker), RunID: run}, nil
}
