package hsds

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ListWriter writes an HSDS paginated list file with every item on one page,
// one item per line, so that a file of any size is written and read back as a
// stream and an import can report the line of a bad record. The totals follow
// the contents because they are only known at the end.
type ListWriter struct {
	f    *os.File
	w    *bufio.Writer
	n    int
	path string
}

// CreateList creates dir/name (e.g. service_list.json).
func CreateList(dir, name string) (*ListWriter, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if _, err := w.WriteString(`{"contents":[`); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &ListWriter{f: f, w: w, path: path}, nil
}

// Add appends one item.
func (l *ListWriter) Add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode item for %s: %w", l.path, err)
	}
	sep := ",\n"
	if l.n == 0 {
		sep = "\n"
	}
	if _, err := l.w.WriteString(sep); err != nil {
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	l.n++
	return nil
}

// Count is the number of items written so far.
func (l *ListWriter) Count() int { return l.n }

// Close writes the totals and closes the file.
func (l *ListWriter) Close() error {
	tail, err := json.Marshal(struct {
		TotalItems int  `json:"total_items"`
		TotalPages int  `json:"total_pages"`
		PageNumber int  `json:"page_number"`
		Size       int  `json:"size"`
		FirstPage  bool `json:"first_page"`
		LastPage   bool `json:"last_page"`
		Empty      bool `json:"empty"`
	}{l.n, 1, 1, l.n, true, true, l.n == 0})
	if err != nil {
		l.f.Close()
		return err
	}
	// tail is {"total_items":...}: continue the open object after the array.
	if _, err := fmt.Fprintf(l.w, "\n],%s\n", tail[1:]); err != nil {
		l.f.Close()
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := l.w.Flush(); err != nil {
		l.f.Close()
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", l.path, err)
	}
	return nil
}
