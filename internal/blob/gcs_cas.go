package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"cloud.google.com/go/storage"
)

// GetGen reads the object whole and returns its GCS generation, taken from
// the same response as the content.
func (g *GCS) GetGen(ctx context.Context, key string) ([]byte, string, error) {
	obj, err := g.object(key)
	if err != nil {
		return nil, "", err
	}
	rc, err := obj.NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, "", fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	return b, strconv.FormatInt(rc.Attrs.Generation, 10), nil
}

// Generation returns the object's GCS generation from its attributes (a
// metadata request; the content is not read).
func (g *GCS) Generation(ctx context.Context, key string) (string, error) {
	obj, err := g.object(key)
	if err != nil {
		return "", err
	}
	attrs, err := obj.Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return "", fmt.Errorf("stat %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", key, err)
	}
	return strconv.FormatInt(attrs.Generation, 10), nil
}

// PutIfGen uploads r with an ifGenerationMatch precondition (gen "": the
// does-not-exist one). GCS checks it when the upload is finalized, atomically
// with the write, and answers 412 if it does not hold.
func (g *GCS) PutIfGen(ctx context.Context, key string, r io.Reader, gen string) error {
	obj, err := g.object(key)
	if err != nil {
		return err
	}
	cond, err := generationCondition(gen)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	err = upload(ctx, obj.If(cond), r)
	if isPreconditionFailed(err) {
		return fmt.Errorf("put %s if generation %s: %w", key, shortGen(gen), ErrPrecondition)
	}
	if err != nil {
		return fmt.Errorf("put %s if generation %s: %w", key, shortGen(gen), err)
	}
	return nil
}

// generationCondition turns a generation token into a write precondition.
func generationCondition(gen string) (storage.Conditions, error) {
	if gen == "" {
		return storage.Conditions{DoesNotExist: true}, nil
	}
	n, err := strconv.ParseInt(gen, 10, 64)
	if err != nil || n <= 0 {
		return storage.Conditions{}, fmt.Errorf("invalid GCS generation %q", gen)
	}
	return storage.Conditions{GenerationMatch: n}, nil
}
