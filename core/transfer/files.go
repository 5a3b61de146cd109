package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNeedFile is matched (errors.Is) by a *NeedFileError: the file is one
// part of an export that spans several files, and the others are missing.
var ErrNeedFile = errors.New("this file needs another file sent with it")

// NeedFileError says which file a part of an export needs: a Steam manifest
// its .maFile files, an encrypted .maFile its manifest. The caller keeps the
// file (in memory, briefly) and imports it again with the next one through
// ImportFiles. The text can be shown to a person.
type NeedFileError struct {
	Format string // what the file is, e.g. "Steam Desktop Authenticator manifest.json"
	Want   string // what else to send, as a clause
	Detail Detail // the whole text for translations
}

func (e *NeedFileError) Error() string { return "this is the " + e.Format + ": " + e.Want }

// Is makes errors.Is(err, ErrNeedFile) true.
func (e *NeedFileError) Is(target error) bool { return target == ErrNeedFile }

// Importer reads export files. It bounds the work that memory-hard key
// derivations do across concurrent imports: at most one derivation above
// heavyKDFBytes runs at a time (Ente asks for 1 GiB), so a few people
// importing at once cannot take the machine's memory. A long-running
// program makes one Importer and shares it; its methods are safe for
// concurrent use.
type Importer struct {
	heavy chan struct{}
}

// NewImporter returns an Importer with its own limit on heavy derivations.
func NewImporter() *Importer { return &Importer{heavy: make(chan struct{}, 1)} }

// heavyKDFBytes is the memory from which a derivation waits its turn.
const heavyKDFBytes = 64 << 20

// withKDF runs derive, waiting for the heavy-derivation slot first when it
// needs more than heavyKDFBytes of memory.
func (im *Importer) withKDF(ctx context.Context, memBytes int64, derive func()) error {
	if memBytes > heavyKDFBytes && im.heavy != nil {
		select {
		case im.heavy <- struct{}{}:
			defer func() { <-im.heavy }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	derive()
	return nil
}

// Import reads one export file with a fresh Importer (see Importer.Import).
// Programs that import for several people at once share one Importer.
func Import(ctx context.Context, data []byte, password string) (*Result, error) {
	return NewImporter().Import(ctx, data, password)
}

// Import reads an export file of another authenticator app. password is
// used only for encrypted files; when one is needed and password is empty,
// Import returns ErrPasswordRequired and the caller asks for it.
//
// Errors: ErrTooLarge, ErrUnknownFormat, ErrImage, ErrPasswordRequired,
// ErrWrongPassword, ErrCorruptFile, ErrNeedFile (a *NeedFileError) (each
// possibly wrapped with detail), or ctx's error. A file with some bad
// entries is not an error: the good ones are in Result.Keys and the bad
// ones in Result.Bad.
func (im *Importer) Import(ctx context.Context, data []byte, password string) (*Result, error) {
	return im.ImportFiles(ctx, [][]byte{data}, password)
}

// ImportFiles reads an export that may span several files, in any order:
// Steam's manifest.json with its .maFile files, or unrelated exports sent
// together. Files are told apart by content. A zip archive is opened and
// its files read the same way. The errors are those of Import; the limits
// (MaxInput, MaxEntries) apply to all the files together.
func (im *Importer) ImportFiles(ctx context.Context, files [][]byte, password string) (*Result, error) {
	total := 0
	for _, f := range files {
		total += len(f)
	}
	if total > MaxInput {
		return nil, ErrTooLarge
	}
	if len(files) == 0 {
		return nil, unknown("no file was given")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	set := make([]namedFile, len(files))
	for i, f := range files {
		set[i] = namedFile{data: f}
	}
	return im.importSet(ctx, set, password, false)
}

// namedFile is one file of a set; name is known only inside a zip and is
// used only in messages.
type namedFile struct {
	name   string
	data   []byte
	result *Result // already read (a zip within the set)
}

// label is the file's name as describe shows it ("" for an unnamed file).
func (f namedFile) label(int) string {
	if f.name != "" {
		return clip(cleanText(f.name), 60)
	}
	return ""
}

func (f namedFile) describe(i int) string {
	if f.name != "" {
		return fmt.Sprintf("file %q", clip(cleanText(f.name), 60))
	}
	return fmt.Sprintf("file %d", i+1)
}

// importSet sorts a set of files by what they are and reads them.
func (im *Importer) importSet(ctx context.Context, files []namedFile, password string, inZip bool) (*Result, error) {
	var flat []namedFile
	for _, f := range files {
		f.data = bytes.TrimPrefix(f.data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM from Windows editors
		if isZip(f.data) {
			if inZip {
				return nil, corrupt("the zip archive holds another zip archive; unzip it and send the files inside").with("zip_in_zip")
			}
			inner, encrypted, err := im.unzip(ctx, f.data, password)
			if err != nil {
				return nil, err
			}
			res, err := im.importSet(ctx, inner, password, true)
			if err != nil {
				return nil, err
			}
			res.Format += " in a zip"
			if encrypted {
				res.Format += " (password-protected)"
			}
			if len(files) == 1 {
				return res, nil
			}
			flat = append(flat, namedFile{name: f.name, result: res})
			continue
		}
		flat = append(flat, f)
	}
	if len(flat) == 1 && flat[0].result == nil {
		return im.importOne(ctx, flat[0].data, password)
	}

	// Steam: a manifest.json and the maFiles beside it.
	var manifest *steamManifest
	var plainMa []json.RawMessage
	var sealed [][]byte
	var others []namedFile
	for _, f := range flat {
		if f.result != nil {
			others = append(others, f)
			continue
		}
		if looksLikeEncryptedMaFile(f.data) {
			sealed = append(sealed, f.data)
			continue
		}
		if top, ok := jsonObject(f.data); ok {
			m, isManifest, err := parseSteamManifest(top)
			if err != nil {
				return nil, err
			}
			if isManifest {
				if manifest != nil {
					return nil, corrupt("two Steam manifest.json files were sent; send one folder at a time").with("two_manifests")
				}
				manifest = m
				continue
			}
			if _, ok := top["shared_secret"]; ok {
				plainMa = append(plainMa, bytes.TrimSpace(f.data))
				continue
			}
		}
		others = append(others, f)
	}
	var results []*Result
	switch {
	case manifest != nil:
		res, err := im.importSteamSet(ctx, manifest, plainMa, sealed, password)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	case len(sealed) > 0:
		return nil, needManifest()
	default:
		for _, raw := range plainMa {
			res, err := importSteamMaFile(raw)
			if err != nil {
				return nil, err
			}
			results = append(results, res)
		}
	}
	var skipped []Problem
	var firstErr error
	for i, f := range others {
		res := f.result
		if res == nil {
			var err error
			res, err = im.importOne(ctx, f.data, password)
			switch {
			case errors.Is(err, ErrPasswordRequired), errors.Is(err, ErrWrongPassword), errors.Is(err, ErrTooLarge),
				errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				return nil, err
			case err != nil:
				if firstErr == nil {
					firstErr = err
				}
				reason, d := reasonOf(err)
				skipped = append(skipped, Problem{Entry: f.describe(i), Reason: reason, Label: f.label(i), Detail: d})
				continue
			}
		}
		results = append(results, res)
	}
	if len(results) == 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, unknown("no file held an export I know")
	}
	return merge(results, skipped)
}

// reasonOf is an import error as a short reason for one file of several,
// and that reason for translations.
func reasonOf(err error) (string, Detail) {
	var nf *NeedFileError
	switch {
	case errors.As(err, &nf):
		return nf.Error(), nf.Detail
	case errors.Is(err, ErrUnknownFormat):
		return "not an export I know", Detail{ID: "file_unknown"}
	case errors.Is(err, ErrImage):
		return "a picture; send it on its own as a photo of the QR code", Detail{ID: "file_image"}
	}
	d, _ := DetailOf(err)
	return err.Error(), d
}

func needManifest() error {
	return &NeedFileError{Format: "encrypted .maFile of Steam Desktop Authenticator or steamguard-cli",
		Want:   "its salt and IV are in the manifest.json of the same maFiles folder; send that file too (or a zip of the whole folder)",
		Detail: Detail{ID: "need_manifest"}}
}

// merge joins the results of several files into one, dropping accounts
// that two files both hold.
func merge(results []*Result, skipped []Problem) (*Result, error) {
	if len(results) == 1 && len(skipped) == 0 {
		return results[0], nil
	}
	var formats []string
	seenFormat := map[string]bool{}
	c := newCollector("")
	n := 0
	for _, r := range results {
		if !seenFormat[r.Format] {
			seenFormat[r.Format] = true
			formats = append(formats, r.Format)
		}
		for _, k := range r.Keys {
			n++
			if n > MaxEntries {
				return nil, ErrTooLarge
			}
			c.add(n, k)
		}
		c.res.Bad = append(c.res.Bad, r.Bad...)
		c.res.Parts = append(c.res.Parts, r.Parts...)
		if r.Batch != nil && len(r.Parts) == 0 {
			c.res.Parts = append(c.res.Parts, *r.Batch)
		}
	}
	c.res.Bad = append(c.res.Bad, skipped...)
	res := c.result()
	res.Format = strings.Join(formats, " + ")
	if len(res.Parts) > 0 {
		res.Batch = &res.Parts[0]
		if len(res.Parts) == 1 {
			res.Parts = nil
		}
	}
	return res, nil
}

// jsonObject parses data as a JSON object (after checkJSON), or reports
// false.
func jsonObject(data []byte) (map[string]json.RawMessage, bool) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' || checkJSON(t) != nil {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(t, &top) != nil {
		return nil, false
	}
	return top, true
}
