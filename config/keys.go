package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/hbollon/go-edlib"
	"go.yaml.in/yaml/v3"
)

// checkKeys walks the YAML tree beside the Config type before decoding, so
// an unknown key is reported with its full path and the nearest known key
// (yaml's own message names a Go type, not the key), and it records each
// value's line so decode errors can name the key too. go-edlib's optimal
// string alignment distance (already used for command suggestions) ranks
// the candidates.
func checkKeys(n *yaml.Node, t reflect.Type, path string, lines map[int]string) error {
	k := keyChecker{lines: lines, structs: map[reflect.Type]*structKeys{}}
	return k.check(n, t, path)
}

// keyChecker is one checkKeys walk. A struct's keys are listed once per
// type, not once per mapping: 1,000 people are 1,000 User mappings.
type keyChecker struct {
	lines   map[int]string
	structs map[reflect.Type]*structKeys
}

// structKeys are the YAML keys of a struct type, in field order (for the
// "known here" list and the nearest-key suggestion).
type structKeys struct {
	types map[string]reflect.Type
	names []string
}

func (k *keyChecker) keysOf(t reflect.Type) *structKeys {
	if sk, ok := k.structs[t]; ok {
		return sk
	}
	sk := &structKeys{types: map[string]reflect.Type{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		sk.types[tag] = f.Type
		sk.names = append(sk.names, tag)
	}
	k.structs[t] = sk
	return sk
}

func (k *keyChecker) check(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := k.check(c, t, path); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Line > 0 && path != "" {
		if _, ok := k.lines[n.Line]; !ok {
			k.lines[n.Line] = path
		}
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		sk := k.keysOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, v := n.Content[i], n.Content[i+1]
			key := join(path, kn.Value)
			ft, ok := sk.types[kn.Value]
			if !ok {
				return unknownKey(key, kn.Value, sk.names)
			}
			k.lines[kn.Line] = key
			if err := k.check(v, ft, key); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			if err := k.check(c, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func unknownKey(key, word string, names []string) error {
	best, bestD := "", 3 // at most two edits away counts as a typo
	for _, n := range names {
		if d := edlib.OSADamerauLevenshteinDistance(strings.ToLower(word), n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Errorf("%s: unknown key; did you mean %s?", key, best)
	}
	return fmt.Errorf("%s: unknown key (known here: %s)", key, strings.Join(names, ", "))
}

var (
	lineRE      = regexp.MustCompile(`line (\d+): `)
	cannotRE    = regexp.MustCompile(`^line (\d+): cannot unmarshal !!(\w+) ` + "`" + `(.*)` + "`" + ` into (\S+)$`)
	yamlPrefixR = regexp.MustCompile(`^yaml: (unmarshal errors:\n\s*)?`)
)

// explainDecode turns yaml's "line 3: cannot unmarshal !!str `@alice` into
// int64" into "users[0].telegram: want a numeric id, got "@alice"".
func explainDecode(err error, lines map[int]string) error {
	msg := strings.TrimSpace(yamlPrefixR.ReplaceAllString(err.Error(), ""))
	first, _, _ := strings.Cut(msg, "\n")
	if m := cannotRE.FindStringSubmatch(first); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := lines[line]
		if key == "" {
			key = "line " + m[1]
		}
		return fmt.Errorf("%s: want %s, got %q", key, want(key, m[4]), m[3])
	}
	if m := lineRE.FindStringSubmatchIndex(first); m != nil {
		line, _ := strconv.Atoi(first[m[2]:m[3]])
		if key := lines[line]; key != "" {
			return fmt.Errorf("%s: %s", key, first[:m[0]]+first[m[1]:])
		}
	}
	return fmt.Errorf("invalid YAML: %w", err)
}

func want(key, goType string) string {
	switch {
	case strings.HasSuffix(key, ".telegram") && strings.HasPrefix(goType, "int"):
		return "a numeric id (ask @userinfobot), not a @username"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "text"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a section of keys"
}
