package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/finsight/finsight/internal/synth"
)

// synthCSV writes the demo's seeded synthetic prices to a file.
func synthCSV(args []string, stdout io.Writer) error {
	o := synth.Defaults()
	fs := newFlagSet("synth")
	out := fs.String("out", "", "CSV file to write (required)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed")
	fs.IntVar(&o.Days, "days", o.Days, "trading days")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	w := bufio.NewWriter(f)
	if err := synth.WriteCSV(w, o); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %d days of SYNTHETIC prices (seed %d) to %s\n", o.Days, o.Seed, *out)
	return nil
}
