package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/frame"
)

// derivedKey names a step's output by what it was computed from, so the same
// inputs and parameters always give the same key (a retried or replayed step
// rewrites nothing new, and a finished one is reused).
func derivedKey(step, ext string, inputs any) (string, error) {
	b, err := json.Marshal(inputs)
	if err != nil {
		return "", fmt.Errorf("key for %s: %w", step, err)
	}
	return fmt.Sprintf("data/derived/%s/%s.%s", step, blob.ContentHash(b), ext), nil
}

// putImmutable writes b under key unless an object is already there (which,
// for content-derived keys, holds the same bytes) and returns its reference.
func (a *Activities) putImmutable(ctx context.Context, key string, b []byte, rows int) (blob.Ref, error) {
	ref := blob.Ref{Key: key, SHA256: blob.ContentHash(b), Rows: rows}
	err := a.Store.PutIfAbsent(ctx, key, bytes.NewReader(b))
	if err != nil && !errors.Is(err, blob.ErrExists) {
		return ref, a.writeErr(key, err)
	}
	return ref, nil
}

// readVerified reads an object and checks it against its reference's hash.
func (a *Activities) readVerified(ctx context.Context, ref blob.Ref) ([]byte, error) {
	r, err := a.Store.Get(ctx, ref.Key)
	if err != nil {
		return nil, storeErr(err, "read %s", ref.Key)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref.Key, err)
	}
	if ref.SHA256 != "" {
		if got := blob.ContentHash(b); got != ref.SHA256 {
			return nil, a.corrupt(ref.Key, "content hash %s does not match its reference %s", got[:12], ref.SHA256[:12])
		}
	}
	return b, nil
}

func (a *Activities) readBars(ctx context.Context, ref blob.Ref) (*frame.Bars, error) {
	f, closeFn, err := a.openVerified(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	bars, err := frame.ReadBars(f, a.Mem)
	if err != nil {
		return nil, a.corrupt(ref.Key, "decode bars: %v", err)
	}
	return bars, nil
}

func (a *Activities) writeBars(ctx context.Context, step string, inputs any, bars *frame.Bars) (blob.Ref, error) {
	key, err := derivedKey(step, "arrow", inputs)
	if err != nil {
		return blob.Ref{}, err
	}
	return a.putStream(ctx, key, bars.Len(), func(w io.Writer) error {
		if err := frame.WriteBars(w, bars, a.Mem); err != nil {
			return fmt.Errorf("encode %s bars: %w", step, err)
		}
		return nil
	})
}

func (a *Activities) readWindows(ctx context.Context, ref blob.Ref) (*frame.Windows, error) {
	f, closeFn, err := a.openVerified(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	w, err := frame.ReadWindows(f, a.Mem)
	if err != nil {
		return nil, a.corrupt(ref.Key, "decode windows: %v", err)
	}
	return w, nil
}

func (a *Activities) writeWindows(ctx context.Context, inputs any, w *frame.Windows) (blob.Ref, error) {
	key, err := derivedKey("window", "arrow", inputs)
	if err != nil {
		return blob.Ref{}, err
	}
	return a.putStream(ctx, key, len(w.Y), func(out io.Writer) error {
		if err := frame.WriteWindows(out, w, a.Mem); err != nil {
			return fmt.Errorf("encode windows: %w", err)
		}
		return nil
	})
}

func (a *Activities) readJSON(ctx context.Context, ref blob.Ref, v any) error {
	b, err := a.readVerified(ctx, ref)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return a.corrupt(ref.Key, "decode JSON: %v", err)
	}
	return nil
}

// lineageJSON records what an artifact was derived from, in its metadata.
func lineageJSON(step string, params any, inputs ...blob.Ref) string {
	b, err := json.Marshal(struct {
		Step   string     `json:"step"`
		Params any        `json:"params"`
		Inputs []blob.Ref `json:"inputs"`
	}{step, params, inputs})
	if err != nil {
		return ""
	}
	return string(b)
}
