// Command gotchpatch adapts a copy of gotch's generated C++ wrappers to the
// LibTorch version found on this machine. It reads compiler diagnostics,
// finds the wrapper functions whose bodies do not compile, and replaces just
// those bodies with a runtime error naming the function and the version.
//
// Usage: gotchpatch -src torch_api_generated.cpp.h -errors build.log -version 1.13.0
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	src := flag.String("src", "", "generated wrapper file to patch in place")
	errs := flag.String("errors", "", "compiler output listing the failing lines")
	version := flag.String("version", "unknown", "LibTorch version named in the runtime error")
	flag.Parse()
	n, err := patchFile(*src, *errs, *version)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotchpatch:", err)
		os.Exit(1)
	}
	fmt.Printf("gotchpatch: stubbed %d wrapper(s) not available in LibTorch %s\n", n, *version)
}

func patchFile(src, errs, version string) (int, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return 0, fmt.Errorf("read wrappers: %w", err)
	}
	log, err := os.ReadFile(errs)
	if err != nil {
		return 0, fmt.Errorf("read compiler output: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	bad := failingLines(string(log), baseName(src))
	patched, n := stubFunctions(lines, bad, version)
	if n == 0 {
		return 0, nil
	}
	tmp := src + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(patched, "\n")), 0o644); err != nil {
		return 0, fmt.Errorf("write wrappers: %w", err)
	}
	if err := os.Rename(tmp, src); err != nil {
		return 0, fmt.Errorf("replace wrappers: %w", err)
	}
	return n, nil
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// failingLines returns the 1-based line numbers of file that the compiler
// reported an error at.
func failingLines(log, file string) map[int]bool {
	re := regexp.MustCompile(regexp.QuoteMeta(file) + `:(\d+):\d+: error`)
	out := map[int]bool{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		for _, m := range re.FindAllStringSubmatch(sc.Text(), -1) {
			n, _ := strconv.Atoi(m[1])
			out[n] = true
		}
	}
	return out
}

var funcStart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ \*]*\b(atg_[A-Za-z0-9_]+)\(`)

// stubFunctions replaces the PROTECT(...) body of every function containing a
// failing line with a throw that names the function and the version.
func stubFunctions(lines []string, bad map[int]bool, version string) ([]string, int) {
	out := make([]string, 0, len(lines))
	count := 0
	for i := 0; i < len(lines); {
		m := funcStart.FindStringSubmatch(lines[i])
		if m == nil {
			out = append(out, lines[i])
			i++
			continue
		}
		end := i + 1
		for end < len(lines) && lines[end] != "}" {
			end++
		}
		failing := false
		for l := i; l <= end && l < len(lines); l++ {
			if bad[l+1] {
				failing = true
			}
		}
		if !failing {
			out = append(out, lines[i:min(end+1, len(lines))]...)
			i = end + 1
			continue
		}
		count++
		out = append(out, stubBody(lines[i:min(end+1, len(lines))], m[1], version)...)
		i = end + 1
	}
	return out, count
}

// stubBody keeps the signature and any trailing return, and replaces the
// PROTECT block with a throw.
func stubBody(fn []string, name, version string) []string {
	out := []string{}
	inProtect := false
	for _, l := range fn {
		switch {
		case strings.HasPrefix(l, "  PROTECT("):
			inProtect = true
			out = append(out, "  PROTECT(",
				fmt.Sprintf("    throw std::runtime_error(\"%s is not available in LibTorch %s\");", name, version))
		case inProtect && l == "  )":
			inProtect = false
			out = append(out, l)
		case inProtect:
		default:
			out = append(out, l)
		}
	}
	return out
}
