package yahoo

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/frame"
	_ "time/tzdata" // the DST test must not depend on the host's zoneinfo
)

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestDailyParsesChartWithNullDay(t *testing.T) {
	f := &fakeYahoo{status: http.StatusOK, body: threeDays(t).json(t)}
	c := serve(t, f)
	b, err := c.Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	wantDates := []time.Time{day(2024, 1, 2), day(2024, 1, 3), day(2024, 1, 4)}
	if b.Ticker != "NFLX" || b.Len() != len(wantDates) {
		t.Fatalf("got ticker %q with %d rows, want NFLX with 3", b.Ticker, b.Len())
	}
	for i, d := range wantDates {
		if !b.Date[i].Equal(d) || b.Date[i].Location() != time.UTC {
			t.Errorf("date[%d] = %v, want %v UTC", i, b.Date[i], d)
		}
	}
	checks := []struct {
		name      string
		got, want []float64
	}{
		{"open", b.Open, []float64{486.25, math.NaN(), 470.5}},
		{"high", b.High, []float64{490, math.NaN(), 478}},
		{"low", b.Low, []float64{480, math.NaN(), 466.25}},
		{"close", b.Close, []float64{485.5, math.NaN(), 474.75}},
		{"adj close", b.AdjClose, []float64{485.5, math.NaN(), 474.75}},
		{"volume", b.Volume, []float64{3900000, math.NaN(), 4100000}},
	}
	for _, c := range checks {
		for i := range c.want {
			if !sameFloat(c.got[i], c.want[i]) {
				t.Errorf("%s[%d] = %v, want %v", c.name, i, c.got[i], c.want[i])
			}
		}
	}
}

func TestDailySendsChartRequest(t *testing.T) {
	f := &fakeYahoo{status: http.StatusOK, body: threeDays(t).json(t)}
	c := serve(t, f)
	c.BaseURL += "/prefix/"
	start, end := day(2024, 1, 2), day(2024, 1, 4)
	if _, err := c.Daily(context.Background(), "NFLX", start, end); err != nil {
		t.Fatal(err)
	}
	reqs := f.calls()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/prefix/v8/finance/chart/NFLX" {
		t.Errorf("request %s %s, want GET /prefix/v8/finance/chart/NFLX", r.Method, r.URL.Path)
	}
	if ua := r.Header.Get("User-Agent"); ua != "finsight-test/1" {
		t.Errorf("User-Agent = %q", ua)
	}
	q := r.URL.Query()
	for k, want := range map[string]string{"interval": "1d", "events": "history", "includeAdjustedClose": "true"} {
		if q.Get(k) != want {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), want)
		}
	}
	p1, err1 := strconv.ParseInt(q.Get("period1"), 10, 64)
	p2, err2 := strconv.ParseInt(q.Get("period2"), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("period1 %q period2 %q are not unix seconds", q.Get("period1"), q.Get("period2"))
	}
	// The window must cover every exchange-local instant of start..end.
	if p1 > start.Add(-14*time.Hour).Unix() || p2 < end.Add(24*time.Hour+14*time.Hour).Unix() {
		t.Errorf("period [%d, %d) does not cover %s..%s in every time zone", p1, p2, start, end)
	}
}

func TestDailyDropsRowsOutsideRange(t *testing.T) {
	f := &fakeYahoo{status: http.StatusOK, body: threeDays(t).json(t)}
	b, err := serve(t, f).Daily(context.Background(), "NFLX", day(2024, 1, 3), day(2024, 1, 3).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 1 || !b.Date[0].Equal(day(2024, 1, 3)) {
		t.Fatalf("got dates %v, want only 2024-01-03", b.Date)
	}
}

// Timestamps at 00:30 New York time are 04:30 UTC in summer and 05:30 UTC
// in winter: a fixed -05:00 offset (the winter gmtoffset Yahoo sends in
// January) puts the summer ones on the previous day, UTC is right only by
// luck. Only the zone name gives the right calendar day on both sides.
func TestDailyConvertsToExchangeDateAcrossDST(t *testing.T) {
	ny := newYork(t)
	stamps := []time.Time{
		time.Date(2024, 3, 8, 0, 30, 0, 0, ny),  // EST
		time.Date(2024, 3, 11, 0, 30, 0, 0, ny), // EDT, the day after the switch
		time.Date(2024, 7, 1, 23, 30, 0, 0, ny), // 03:30 UTC on 07-02
		time.Date(2024, 11, 1, 0, 30, 0, 0, ny), // EDT
		time.Date(2024, 11, 4, 0, 30, 0, 0, ny), // EST again
	}
	s := series{tz: "America/New_York", gmtoffset: -18000}
	var days []time.Time
	for i, st := range stamps {
		s.ts = append(s.ts, st.Unix())
		v := float64(100 + i)
		s.open, s.high, s.low, s.close, s.adj = append(s.open, v), append(s.high, v), append(s.low, v), append(s.close, v), append(s.adj, v)
		s.volume = append(s.volume, 1000)
		days = append(days, day(st.Year(), st.Month(), st.Day()))
	}
	f := &fakeYahoo{status: http.StatusOK, body: s.json(t)}
	b, err := serve(t, f).Daily(context.Background(), "NFLX", day(2024, 3, 1), day(2024, 11, 30))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != len(days) {
		t.Fatalf("got %d rows %v, want %d", b.Len(), b.Date, len(days))
	}
	for i, d := range days {
		if !b.Date[i].Equal(d) {
			t.Errorf("date[%d] = %s, want %s", i, b.Date[i].Format(frame.DateLayout), d.Format(frame.DateLayout))
		}
	}
}

func TestDailyFallsBackToGMTOffset(t *testing.T) {
	s := threeDays(t)
	s.tz = "Not/AZone"
	// 23:00 UTC on 01-01 is 08:00 on 01-02 in Tokyo (+09:00).
	s.gmtoffset = 9 * 3600
	s.ts = []int64{day(2024, 1, 1).Add(23 * time.Hour).Unix(), day(2024, 1, 2).Add(23 * time.Hour).Unix(), day(2024, 1, 3).Add(23 * time.Hour).Unix()}
	b, err := serve(t, &fakeYahoo{status: http.StatusOK, body: s.json(t)}).Daily(context.Background(), "7203.T", day(2024, 1, 2), day(2024, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 || !b.Date[0].Equal(day(2024, 1, 2)) || !b.Date[2].Equal(day(2024, 1, 4)) {
		t.Fatalf("dates %v, want 2024-01-02..04", b.Date)
	}
}

func TestDailyKeepsLaterBarOfADay(t *testing.T) {
	s := threeDays(t)
	// Yahoo's live bar: a second timestamp on 01-04, during the session.
	s.ts[1], s.ts[2] = nyOpen(t, 2024, 1, 4), nyOpen(t, 2024, 1, 4)+3600
	b, err := serve(t, &fakeYahoo{status: http.StatusOK, body: s.json(t)}).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 2 || !b.Date[1].Equal(day(2024, 1, 4)) || b.Open[1] != 470.5 {
		t.Fatalf("got dates %v open %v, want 01-02, 01-04 with the later open 470.5", b.Date, b.Open)
	}
}

func TestDailyNotFound(t *testing.T) {
	f := &fakeYahoo{
		status: http.StatusNotFound,
		body:   `{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`,
	}
	_, err := serve(t, f).Daily(context.Background(), "NOPE", day(2024, 1, 2), day(2024, 1, 4))
	if !errors.Is(err, ErrNotFound) || IsTransient(err) {
		t.Fatalf("err = %v, want ErrNotFound and not transient", err)
	}
	for _, want := range []string{"NOPE", "/v8/finance/chart/NOPE", "symbol may be delisted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDailyEmptyResultIsNotFound(t *testing.T) {
	body := `{"chart":{"result":[{"meta":{"symbol":"NFLX","exchangeTimezoneName":"America/New_York"},"indicators":{"quote":[{}],"adjclose":[{}]}}],"error":null}}`
	_, err := serve(t, &fakeYahoo{status: http.StatusOK, body: body}).Daily(context.Background(), "NFLX", day(2024, 1, 6), day(2024, 1, 7))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestDailyTooManyRequestsIsTransientAndNotRetried(t *testing.T) {
	f := &fakeYahoo{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "7"}, body: "Too Many Requests"}
	_, err := serve(t, f).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	var te *TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TransientError", err)
	}
	if te.StatusCode != http.StatusTooManyRequests || te.RetryAfter != 7*time.Second || te.Ticker != "NFLX" || !strings.Contains(te.URL, "/v8/finance/chart/NFLX") {
		t.Errorf("got %+v", te)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest) {
		t.Errorf("transient error %v also matches a permanent one", err)
	}
	if n := len(f.calls()); n != 1 {
		t.Errorf("server got %d requests, want 1 (no retry inside the client)", n)
	}
}

func TestDailyServerErrorIsTransient(t *testing.T) {
	f := &fakeYahoo{status: http.StatusInternalServerError, body: "oops"}
	_, err := serve(t, f).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	var te *TransientError
	if !errors.As(err, &te) || te.StatusCode != http.StatusInternalServerError {
		t.Fatalf("err = %v, want *TransientError with status 500", err)
	}
}

func TestDailyOtherClientErrorIsBadRequest(t *testing.T) {
	f := &fakeYahoo{
		status: http.StatusBadRequest,
		body:   `{"chart":{"result":null,"error":{"code":"Bad Request","description":"Invalid input - start date cannot be after end date"}}}`,
	}
	_, err := serve(t, f).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if !errors.Is(err, ErrBadRequest) || IsTransient(err) || !strings.Contains(err.Error(), "start date cannot be after end date") {
		t.Fatalf("err = %v, want ErrBadRequest with the description", err)
	}
}

func TestDailyMalformedJSON(t *testing.T) {
	for name, tc := range map[string]struct {
		body      string
		transient bool
	}{
		"not JSON":       {`<html>blocked</html>`, false},
		"wrong type":     {`{"chart":{"result":[{"timestamp":"yesterday"}]}}`, false},
		"truncated":      {threeDays(t).json(t)[:200], true},
		"empty":          {``, true},
		"trailing chars": {threeDays(t).json(t) + "}", false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := serve(t, &fakeYahoo{status: http.StatusOK, body: tc.body}).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
			if err == nil {
				t.Fatal("malformed body accepted")
			}
			if IsTransient(err) != tc.transient {
				t.Fatalf("err = %v, transient = %v, want %v", err, IsTransient(err), tc.transient)
			}
			if !tc.transient && !errors.Is(err, ErrBadResponse) {
				t.Fatalf("err = %v, want ErrBadResponse", err)
			}
		})
	}
}

func TestDailyBodyCutByConnectionIsTransient(t *testing.T) {
	body := threeDays(t).json(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body[:len(body)/2]))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
	_, err := c.Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if !IsTransient(err) {
		t.Fatalf("err = %v, want *TransientError", err)
	}
}

func TestDailyRejectsMismatchedArrays(t *testing.T) {
	s := threeDays(t)
	s.close = s.close[:2]
	_, err := serve(t, &fakeYahoo{status: http.StatusOK, body: s.json(t)}).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "quote.close has 2 values for 3 timestamps") {
		t.Fatalf("err = %v, want ErrBadResponse naming quote.close", err)
	}
}

func TestDailyRejectsUnorderedTimestamps(t *testing.T) {
	s := threeDays(t)
	s.ts[0], s.ts[2] = s.ts[2], s.ts[0]
	_, err := serve(t, &fakeYahoo{status: http.StatusOK, body: s.json(t)}).Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v, want ErrBadResponse", err)
	}
}

func TestDailyValidatesInputBeforeRequesting(t *testing.T) {
	f := &fakeYahoo{status: http.StatusOK, body: threeDays(t).json(t)}
	c := serve(t, f)
	for name, tc := range map[string]struct {
		ticker     string
		start, end time.Time
	}{
		"empty ticker":  {" ", day(2024, 1, 2), day(2024, 1, 4)},
		"slash":         {"NF/LX", day(2024, 1, 2), day(2024, 1, 4)},
		"start=end":     {"NFLX", day(2024, 1, 2), day(2024, 1, 2)},
		"start>end":     {"NFLX", day(2024, 1, 4), day(2024, 1, 2)},
		"zero start":    {"NFLX", time.Time{}, day(2024, 1, 2)},
		"days inverted": {"NFLX", time.Date(2024, 1, 3, 1, 0, 0, 0, time.FixedZone("+14", 14*3600)), time.Date(2024, 1, 2, 20, 0, 0, 0, time.UTC)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Daily(context.Background(), tc.ticker, tc.start, tc.end)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
	bad := &Client{BaseURL: "ftp://example.invalid"}
	if _, err := bad.Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ftp base URL: err = %v, want ErrInvalidInput", err)
	}
	if n := len(f.calls()); n != 0 {
		t.Errorf("server got %d requests for invalid input", n)
	}
}

func TestDailyNetworkErrorIsTransientWithoutCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c := &Client{BaseURL: strings.Replace(url, "http://", "http://user:s3cret@", 1) + "/?apikey=hidden"}
	_, err := c.Daily(context.Background(), "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	var te *TransientError
	if !errors.As(err, &te) || te.StatusCode != 0 {
		t.Fatalf("err = %v, want *TransientError without status", err)
	}
	for _, secret := range []string{"s3cret", "hidden"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}
}

func TestDailyCanceledContextIsNotTransient(t *testing.T) {
	f := &fakeYahoo{status: http.StatusOK, body: threeDays(t).json(t)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := serve(t, f).Daily(ctx, "NFLX", day(2024, 1, 2), day(2024, 1, 4))
	if !errors.Is(err, context.Canceled) || IsTransient(err) {
		t.Fatalf("err = %v, want context.Canceled, not transient", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"-5":                            0,
		"soon":                          0,
		"Tue, 02 Jan 2024 12:01:00 GMT": time.Minute,
		"Tue, 02 Jan 2024 11:00:00 GMT": 0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}
