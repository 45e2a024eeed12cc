package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/kcidb"
	"github.com/selfptrace/selfptrace-vm/report"
)

// writeKCIDB writes the results of `test` as a KCIDB v5 report: the
// checkout is the kernel source plus the series, one build per
// architecture, one test per guest result.
func writeKCIDB(ctx context.Context, c *common, rs report.Results, start time.Time, stdout io.Writer, f outputFile) error {
	seriesDir := filepath.Join(c.root, "patches", "linux-6.12")
	var series []kbuild.Patch
	if !c.vanilla && !c.asIs {
		var err error
		if series, err = kbuild.ReadSeries(seriesDir); err != nil {
			return fmt.Errorf("writing KCIDB report: %w", err)
		}
	}
	// The vanilla kernel's cache key covers the source, the config and the
	// compiler but not the series: the checkout's base identity. An as-is
	// tree has no series to leave out: its own key is that identity.
	o := c.kbuildOptions(c.archs[0])
	o.Vanilla = !o.AsIs
	srcID, err := kbuild.Key(ctx, o)
	if err != nil {
		return fmt.Errorf("writing KCIDB report: identifying the source: %w", err)
	}
	rep, err := kcidb.New(kcidb.Input{
		Source:    c.kernelSrc,
		SourceID:  srcID,
		Series:    series,
		SeriesDir: seriesDir,
		Start:     start,
		Results:   rs,
	})
	if err != nil {
		return fmt.Errorf("writing KCIDB report: %w", err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		return err
	}
	return writeOutput(stdout, f, buf.Bytes())
}
