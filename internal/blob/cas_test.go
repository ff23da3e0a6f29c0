package blob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// casCases are the compare-and-swap behaviours every Store must have.
func casCases() []storeCase {
	return []storeCase{
		{"GetGenMissing", testGetGenMissing},
		{"PutIfGenCreateOnce", testPutIfGenCreateOnce},
		{"PutIfGenUpdate", testPutIfGenUpdate},
		{"PutIfGenStale", testPutIfGenStale},
		{"PutIfGenMissingObject", testPutIfGenMissingObject},
		{"PutIfGenAgainstPutIfAbsent", testPutIfGenAgainstPutIfAbsent},
		{"FailedPutIfGenKeepsObject", testFailedPutIfGenKeepsObject},
		{"ConcurrentCounter", testConcurrentCounter},
		{"GenerationIsGetGens", testGenerationIsGetGens},
	}
}

func mustGetGen(t *testing.T, s Store, key string) (string, string) {
	t.Helper()
	b, gen, err := s.GetGen(context.Background(), key)
	if err != nil {
		t.Fatalf("GetGen %s: %v", key, err)
	}
	if gen == "" {
		t.Fatalf("GetGen %s: empty generation", key)
	}
	return string(b), gen
}

func putIfGen(s Store, key, content, gen string) error {
	return s.PutIfGen(context.Background(), key, strings.NewReader(content), gen)
}

func testGetGenMissing(t *testing.T, s Store) {
	_, _, err := s.GetGen(context.Background(), "registry/NONE.json")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "registry/NONE.json") {
		t.Fatalf("GetGen of a missing key: err = %v, want ErrNotFound naming the key", err)
	}
}

// testGenerationIsGetGens: Generation answers the generation GetGen reads
// with the content, follows every kind of write, and says ErrNotFound for a
// missing object.
func testGenerationIsGetGens(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Generation(ctx, "registry/NONE.json"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "registry/NONE.json") {
		t.Fatalf("Generation of a missing key: err = %v, want ErrNotFound naming the key", err)
	}
	same := func(what string) string {
		t.Helper()
		_, want := mustGetGen(t, s, "m.json")
		got, err := s.Generation(ctx, "m.json")
		if err != nil || got != want {
			t.Fatalf("%s: Generation = %q, %v; GetGen's generation %q", what, got, err, want)
		}
		if again, err := s.Generation(ctx, "m.json"); err != nil || again != got {
			t.Fatalf("%s: Generation again = %q, %v; want %q", what, again, err, got)
		}
		return got
	}
	if err := putIfGen(s, "m.json", "one", ""); err != nil {
		t.Fatal(err)
	}
	g1 := same("created")
	if err := putIfGen(s, "m.json", "two", g1); err != nil {
		t.Fatal(err)
	}
	g2 := same("after PutIfGen")
	mustPut(t, s, "m.json", "six") // same size as before
	g3 := same("after Put")
	if g1 == g2 || g2 == g3 {
		t.Fatalf("generations %s, %s, %s: a write kept the generation", g1, g2, g3)
	}
	if err := s.Delete(ctx, "m.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generation(ctx, "m.json"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Generation after Delete: %v, want ErrNotFound", err)
	}
}

func testPutIfGenCreateOnce(t *testing.T, s Store) {
	if err := putIfGen(s, "m.json", "one", ""); err != nil {
		t.Fatalf("create with gen \"\": %v", err)
	}
	err := putIfGen(s, "m.json", "two", "")
	if !errors.Is(err, ErrPrecondition) || !strings.Contains(err.Error(), "m.json") {
		t.Fatalf("second create: err = %v, want ErrPrecondition naming the key", err)
	}
	if got, _ := mustGetGen(t, s, "m.json"); got != "one" {
		t.Fatalf("content = %q after a failed create, want %q", got, "one")
	}
	assertKeys(t, s, "", []string{"m.json"})
}

func testPutIfGenUpdate(t *testing.T, s Store) {
	if err := putIfGen(s, "m.json", "one", ""); err != nil {
		t.Fatal(err)
	}
	_, gen1 := mustGetGen(t, s, "m.json")
	if err := putIfGen(s, "m.json", "two", gen1); err != nil {
		t.Fatalf("update with the current generation: %v", err)
	}
	got, gen2 := mustGetGen(t, s, "m.json")
	if got != "two" {
		t.Fatalf("content = %q after the update, want %q", got, "two")
	}
	if gen2 == gen1 {
		t.Fatalf("generation %q did not change with the content", gen1)
	}
	if err := putIfGen(s, "m.json", "three", gen2); err != nil {
		t.Fatalf("second update with the current generation: %v", err)
	}
}

func testPutIfGenStale(t *testing.T, s Store) {
	mustPut(t, s, "m.json", "one")
	_, stale := mustGetGen(t, s, "m.json")
	mustPut(t, s, "m.json", "two") // someone else's write
	if err := putIfGen(s, "m.json", "three", stale); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("update with a stale generation: err = %v, want ErrPrecondition", err)
	}
	if got := mustGet(t, s, "m.json"); got != "two" {
		t.Fatalf("content = %q after a stale update, want %q", got, "two")
	}
}

func testPutIfGenMissingObject(t *testing.T, s Store) {
	mustPut(t, s, "m.json", "one")
	_, gen := mustGetGen(t, s, "m.json")
	if err := s.Delete(context.Background(), "m.json"); err != nil {
		t.Fatal(err)
	}
	if err := putIfGen(s, "m.json", "two", gen); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("update of a deleted object: err = %v, want ErrPrecondition", err)
	}
	mustExist(t, s, "m.json", false)
}

func testPutIfGenAgainstPutIfAbsent(t *testing.T, s Store) {
	if err := s.PutIfAbsent(context.Background(), "m.json", strings.NewReader("immutable")); err != nil {
		t.Fatal(err)
	}
	if err := putIfGen(s, "m.json", "two", ""); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("create over a PutIfAbsent object: err = %v, want ErrPrecondition", err)
	}
	if err := putIfGen(s, "other.json", "x", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(context.Background(), "other.json", strings.NewReader("y")); !errors.Is(err, ErrExists) {
		t.Fatalf("PutIfAbsent over a PutIfGen object: err = %v, want ErrExists", err)
	}
}

func testFailedPutIfGenKeepsObject(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.PutIfGen(ctx, "new.json", &failingReader{n: 1000}, ""); !errors.Is(err, errReaderBroke) {
		t.Fatalf("create with a failing reader: err = %v, want the reader's error", err)
	}
	mustExist(t, s, "new.json", false)
	mustPut(t, s, "m.json", "old")
	_, gen := mustGetGen(t, s, "m.json")
	if err := s.PutIfGen(ctx, "m.json", &failingReader{n: 10}, gen); !errors.Is(err, errReaderBroke) {
		t.Fatalf("update with a failing reader: err = %v, want the reader's error", err)
	}
	got, after := mustGetGen(t, s, "m.json")
	if got != "old" || after != gen {
		t.Fatalf("after a failed update: content %q gen %s, want %q gen %s", got, after, "old", gen)
	}
	assertKeys(t, s, "", []string{"m.json"})
}

// increment adds one to the decimal counter at key with ReadModifyWrite.
func increment(ctx context.Context, s Store, key string) error {
	return ReadModifyWrite(ctx, s, key, func(cur []byte, found bool) ([]byte, bool, error) {
		n := 0
		if found {
			var err error
			if n, err = strconv.Atoi(string(cur)); err != nil {
				return nil, false, fmt.Errorf("counter %q: %w", cur, err)
			}
		}
		return []byte(strconv.Itoa(n + 1)), true, nil
	})
}

// testConcurrentCounter: 8 goroutines × 10 read-modify-write increments of
// one object end with exactly 80; a lost update would show as less.
func testConcurrentCounter(t *testing.T, s Store) {
	const workers, each = 8, 10
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				errs <- increment(context.Background(), s, "counter")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("increment: %v", err)
		}
	}
	if got := mustGet(t, s, "counter"); got != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s after %d increments", got, workers*each)
	}
}

func TestReadModifyWriteLeavesObjectWhenNotWriting(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keep := func([]byte, bool) ([]byte, bool, error) { return []byte("never"), false, nil }
	if err := ReadModifyWrite(context.Background(), s, "k", keep); err != nil {
		t.Fatal(err)
	}
	mustExist(t, s, "k", false)
	boom := errors.New("boom")
	fail := func([]byte, bool) ([]byte, bool, error) { return []byte("never"), true, boom }
	if err := ReadModifyWrite(context.Background(), s, "k", fail); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want mutate's error", err)
	}
	mustExist(t, s, "k", false)
}
