package frame

import (
	"fmt"
	"strings"
	"unicode"
)

// Column roles, in the order messages list them.
const (
	roleDate = iota
	roleOpen
	roleHigh
	roleLow
	roleClose
	roleAdjClose
	roleVolume
	roleTicker
	rolePeriod // Stooq's <PER>: D for daily bars
	numRoles
)

var roleNames = [numRoles]string{"date", "open", "high", "low", "close", "adj_close", "volume", "ticker", "period"}

// requiredRoles must each have a column.
var requiredRoles = []int{roleDate, roleOpen, roleHigh, roleLow, roleClose, roleVolume}

// synonyms are the normalised header names (see normHeader) of each role
// across Yahoo, Kaggle, Nasdaq, Stooq, Alpha Vantage, Investing.com and
// broker exports, the preferred first.
var synonyms = [numRoles][]string{
	roleDate:     {"date", "timestamp", "datetime", "tradedate", "tradingdate", "day"},
	roleOpen:     {"open", "openprice"},
	roleHigh:     {"high", "highprice"},
	roleLow:      {"low", "lowprice"},
	roleClose:    {"close", "closelast", "closeprice", "price", "last", "lastprice"},
	roleAdjClose: {"adjclose", "adjustedclose", "adjcloseprice"},
	roleVolume:   {"volume", "vol", "totalvolume"},
	roleTicker:   {"name", "ticker", "symbol"},
	rolePeriod:   {"per", "period"},
}

// knownNames are the header names messages list for each role.
var knownNames = [numRoles]string{
	roleDate:     "Date, timestamp",
	roleOpen:     "Open",
	roleHigh:     "High",
	roleLow:      "Low",
	roleClose:    "Close, Close/Last, Price, Last",
	roleAdjClose: "Adj Close, adjusted_close",
	roleVolume:   "Volume, Vol.",
	roleTicker:   "Name, Ticker, Symbol",
	rolePeriod:   "Per",
}

// normHeader lower-cases a header name and keeps only its letters and
// digits: "Adj Close", "adj_close", "Adj. Close" and "<ADJCLOSE>" agree.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// csvLayout is the column index of each role (-1 when absent) and the
// header's names.
type csvLayout struct {
	col    [numRoles]int
	names  []string
	mapped bool // some role came from CSVFormat.Columns
}

// readHeader maps the header's columns to roles: the names format gives
// first, then the synonyms.
func readHeader(fields [][]byte, cols ColumnNames, line int) (csvLayout, error) {
	l := csvLayout{names: make([]string, len(fields))}
	for i := range l.col {
		l.col[i] = -1
	}
	norm := make([]string, len(fields))
	for i, f := range fields {
		l.names[i] = string(f)
		norm[i] = normHeader(l.names[i])
	}
	for _, rc := range cols.byRole() {
		i := indexFold(l.names, rc.name)
		if i < 0 {
			return l, &CSVError{Line: line, Column: rc.name, Expected: fmt.Sprintf("a column named %q for %s, as the column mapping says", rc.name, roleNames[rc.role]),
				Hint: "the header has " + quoteList(l.names)}
		}
		l.col[rc.role], l.mapped = i, true
	}
	for role := range numRoles {
		if l.col[role] >= 0 {
			continue
		}
		if err := l.bySynonym(role, norm, line); err != nil {
			return l, err
		}
	}
	return l, nil
}

// bySynonym finds role's column by the best-ranked synonym present.
func (l *csvLayout) bySynonym(role int, norm []string, line int) error {
	for _, syn := range synonyms[role] {
		at := -1
		for i, n := range norm {
			if n != syn || l.taken(i) {
				continue
			}
			if at >= 0 {
				return &CSVError{Line: line, Column: l.names[i], Expected: fmt.Sprintf("one column for %s, not two (%q and %q)", roleNames[role], l.names[at], l.names[i]),
					Hint: fmt.Sprintf("choose one with --columns %s=<name>", roleNames[role])}
			}
			at = i
		}
		if at >= 0 {
			l.col[role] = at
			return nil
		}
	}
	return nil
}

func (l *csvLayout) taken(i int) bool {
	for _, c := range l.col {
		if c == i {
			return true
		}
	}
	return false
}

// missing names the first required role without a column, or "".
func (l *csvLayout) missing() string {
	for _, r := range requiredRoles {
		if l.col[r] < 0 {
			return roleNames[r]
		}
	}
	return ""
}

// source names the export the header looks like.
func (l *csvLayout) source() string {
	name := func(role int) string {
		if l.col[role] < 0 {
			return ""
		}
		return normHeader(l.names[l.col[role]])
	}
	switch {
	case l.mapped:
		return "mapped"
	case name(roleClose) == "closelast":
		return "nasdaq"
	case name(roleDate) == "timestamp":
		return "alphavantage"
	case l.col[rolePeriod] >= 0 || strings.HasPrefix(l.names[0], "<"):
		return "stooq"
	case name(roleClose) == "price":
		return "investing"
	case name(roleTicker) == "name" && l.col[roleAdjClose] < 0:
		return "kaggle"
	case name(roleAdjClose) == "adjclose":
		return "yahoo"
	}
	return "generic"
}

// roleColumn pairs a role with the header name a person gave it.
type roleColumn struct {
	role int
	name string
}

// byRole lists the names c sets, in role order.
func (c ColumnNames) byRole() []roleColumn {
	var out []roleColumn
	for role, name := range [...]string{roleDate: c.Date, roleOpen: c.Open, roleHigh: c.High, roleLow: c.Low,
		roleClose: c.Close, roleAdjClose: c.AdjClose, roleVolume: c.Volume, roleTicker: c.Ticker} {
		if name != "" {
			out = append(out, roleColumn{role, name})
		}
	}
	return out
}

// String writes c as ParseColumns reads it.
func (c ColumnNames) String() string {
	var parts []string
	for _, rc := range c.byRole() {
		parts = append(parts, roleNames[rc.role]+"="+rc.name)
	}
	return strings.Join(parts, ",")
}

// ParseColumns reads a column mapping such as
// "date=Day,open=Opening,close=Last Price": role=header name, roles date,
// open, high, low, close, adj_close, volume and ticker.
func ParseColumns(spec string) (ColumnNames, error) {
	var c ColumnNames
	if strings.TrimSpace(spec) == "" {
		return c, nil
	}
	set := map[string]*string{"date": &c.Date, "open": &c.Open, "high": &c.High, "low": &c.Low, "close": &c.Close,
		"adj_close": &c.AdjClose, "adjclose": &c.AdjClose, "volume": &c.Volume, "ticker": &c.Ticker, "name": &c.Ticker}
	for _, part := range strings.Split(spec, ",") {
		role, name, ok := strings.Cut(part, "=")
		role, name = strings.ToLower(strings.TrimSpace(role)), strings.TrimSpace(name)
		dst, known := set[role]
		switch {
		case !ok || name == "":
			return c, fmt.Errorf("column mapping %q: want role=header name, e.g. date=Day,open=Opening", part)
		case !known:
			return c, fmt.Errorf("column mapping %q: unknown role %q (roles: date, open, high, low, close, adj_close, volume, ticker)", part, role)
		case *dst != "":
			return c, fmt.Errorf("column mapping: %s given twice", role)
		}
		*dst = name
	}
	return c, nil
}

func indexFold(names []string, want string) int {
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), want) {
			return i
		}
	}
	return -1
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
