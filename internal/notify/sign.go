package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. With a secret set, every delivery carries
//
//	X-FinSight-Timestamp: 1718900000                     (Unix seconds, when it was sent)
//	X-FinSight-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A receiver recomputes the HMAC over the timestamp header, a dot and the
// raw body exactly as received, compares it in constant time, and refuses
// timestamps far from its clock (a replayed delivery): Verify does all of
// it. X-FinSight-Event-Id is the event's id, the same on every retry of one
// event, for receivers that drop repeats.
const (
	HeaderEventID   = "X-FinSight-Event-Id"
	HeaderTimestamp = "X-FinSight-Timestamp"
	HeaderSignature = "X-FinSight-Signature"
	signatureScheme = "v1="
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock for Verify.
const DefaultTolerance = 5 * time.Minute

// Signature is the X-FinSight-Signature value of body sent at timestamp
// (Unix seconds) under secret.
func Signature(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return signatureScheme + hex.EncodeToString(mac.Sum(nil))
}

// Sign sets the timestamp and signature headers of a delivery of body.
func Sign(h http.Header, secret string, now time.Time, body []byte) {
	ts := now.Unix()
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Signature(secret, ts, body))
}

// ErrSignature is what Verify returns (wrapped) for a delivery that does
// not carry a valid signature.
var ErrSignature = errors.New("webhook signature")

// Verify checks a delivery's signature: h are its headers, body its raw
// body, now the receiver's clock and tolerance how far the timestamp may be
// from it (0: DefaultTolerance). A nil error means the body was sent by
// someone who holds secret, within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	raw, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if raw == "" || sig == "" {
		return fmt.Errorf("%w: missing %s or %s", ErrSignature, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp %q", ErrSignature, raw)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %d is %s away from now", ErrSignature, ts, d.Round(time.Second))
	}
	if !strings.HasPrefix(sig, signatureScheme) {
		return fmt.Errorf("%w: unknown scheme (want %s<hex>)", ErrSignature, signatureScheme)
	}
	if !hmac.Equal([]byte(sig), []byte(Signature(secret, ts, body))) {
		return fmt.Errorf("%w: does not match", ErrSignature)
	}
	return nil
}
