// Package telegramtest is a fake Telegram Bot API server for tests. It speaks
// the real wire format that github.com/go-telegram/bot produces and expects:
// POST multipart/form-data (or urlencoded), or an application/json object,
// to /bot<token>/<method>, JSON envelopes {"ok":true,"result":...} and {"ok":false,"error_code":...}, long
// polled getUpdates with offsets that confirm updates, getFile plus downloads
// from /file/bot<token>/<path>. It records every call so tests can assert on
// them, and can inject 429 answers with retry_after and network failures.
//
// It checks what real Telegram rejects and a bot could get wrong: messages
// over 4096 characters after entity parsing, broken HTML, callback data over
// 64 bytes, empty copy_text buttons, edits and deletes of unknown messages,
// deletion of other people's messages in groups, deletion of messages older
// than 48 hours.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
)

// Bot identity answered by getMe.
const (
	BotID       = 7000001
	BotUsername = "authbot_test_bot"
)

// Chat is where a fake message is sent.
type Chat struct {
	ID    int64
	Type  string // "private", "group", "supergroup", "channel"
	Title string
}

// Private is the private chat with user id.
func Private(userID int64) Chat { return Chat{ID: userID, Type: "private"} }

// Group is a group chat (negative id, as in Telegram).
func Group(id int64) Chat { return Chat{ID: id, Type: "group", Title: "Family"} }

// FilePart is an uploaded file in a recorded call.
type FilePart struct {
	Name string
	Data []byte
}

// Call is one recorded request to the Bot API.
type Call struct {
	Method string
	// Fields are the parameters as the form fields the library would
	// send: strings as they are, anything else (numbers, objects) as its
	// JSON text, whether they came in a form or in a JSON body.
	Fields map[string]string
	// ContentType is the request's media type: "multipart/form-data",
	// "application/json", ...
	ContentType string
	Files       map[string]FilePart
	At          time.Time
	// Status and Error describe the answer: Error is the Telegram
	// description when ok was false ("" for a success or a dropped call).
	Error   string
	Dropped bool // the connection was closed without an answer
	// MessageID is the id of the message a send method created, if any.
	MessageID int
}

// Message is the fake's view of one message in a chat.
type Message struct {
	ID       int
	ChatID   int64
	FromBot  bool
	FromUser int64
	Text     string // as sent (HTML for the bot's messages)
	Markup   string // reply_markup JSON, if any
	Kind     string // "text", "photo", "document"
	Deleted  bool
	Edited   int       // number of successful edits
	Date     time.Time // when it was sent (see Age)
}

// MaxDeleteAge is Telegram's limit: bots cannot delete messages older than
// 48 hours ("Bad Request: message can't be deleted").
const MaxDeleteAge = 48 * time.Hour

type fault struct {
	retryAfter int  // >0: answer 429 with this retry_after
	drop       bool // close the connection without an answer
	status     int  // other error code with description
	desc       string
}

// Server is the fake Bot API. Create it with New; it is safe for concurrent
// use.
type Server struct {
	Token string
	// LongPoll caps how long getUpdates waits for an update (the client asks
	// for up to 50 s; tests should not wait that long).
	LongPoll time.Duration

	srv *httptest.Server

	mu       sync.Mutex
	nextUpd  int64
	nextMsg  int
	pending  []pendingUpdate
	wake     chan struct{}
	calls    []Call
	callWake chan struct{}
	messages map[int]*Message
	files    map[string][]byte // file_id -> data
	faults   map[string][]fault
	webhook  string
	nextFile int
	// UndeletableChats are chats where deleteMessage fails with "message
	// can't be deleted", like a group where the bot is no admin.
	undeletable map[int64]bool
	// admin groups are where the bot may delete other people's messages.
	admin map[int64]bool
	// polling and maxPolling count getUpdates calls in flight: Telegram
	// answers a second concurrent poller with 409 Conflict, and two
	// processes polling at once is what a standby must never do.
	polling, maxPolling int
	conns               atomic.Int64
}

type pendingUpdate struct {
	id  int64
	raw json.RawMessage
}

// New starts a fake Bot API for token. Close it when done.
func New(token string) *Server {
	s := &Server{
		Token:       token,
		LongPoll:    time.Second,
		nextUpd:     100,
		nextMsg:     500,
		wake:        make(chan struct{}),
		callWake:    make(chan struct{}),
		messages:    map[int]*Message{},
		files:       map[string][]byte{},
		faults:      map[string][]fault{},
		undeletable: map[int64]bool{},
		admin:       map[int64]bool{},
	}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	return s
}

// Conns is how many TCP connections clients have opened so far: a client
// that reuses its keep-alive connections opens a few, not one per call.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// URL is the base URL to give the bot (telegram.api_url).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// broadcast wakes every waiter; callers hold s.mu.
func (s *Server) broadcastLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *Server) recordLocked(c Call) {
	s.calls = append(s.calls, c)
	close(s.callWake)
	s.callWake = make(chan struct{})
}

// User is the sender of a fake message.
type User struct {
	ID        int64
	FirstName string
	// LanguageCode is the user's interface language as Telegram reports
	// it on every update ("ru", "pt-br"); "en" when empty, as the clients
	// mostly send.
	LanguageCode string
}

func userJSON(u User) map[string]any {
	name := u.FirstName
	if name == "" {
		name = "Person" + strconv.FormatInt(u.ID, 10)
	}
	code := u.LanguageCode
	if code == "" {
		code = "en"
	}
	return map[string]any{"id": u.ID, "is_bot": false, "first_name": name, "language_code": code}
}

func chatJSON(c Chat) map[string]any {
	m := map[string]any{"id": c.ID, "type": c.Type}
	if c.Type != "private" {
		m["title"] = c.Title
	} else {
		m["first_name"] = "Person"
	}
	return m
}

// commandEntities marks a leading /command like Telegram does, so command
// matchers see it.
func commandEntities(text string) []map[string]any {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	n := strings.IndexAny(text, " \n")
	if n < 0 {
		n = len(text)
	}
	return []map[string]any{{"type": "bot_command", "offset": 0, "length": len(utf16.Encode([]rune(text[:n])))}}
}

func (s *Server) newMessageLocked(chat Chat, from User, kind, text string) (map[string]any, int) {
	s.nextMsg++
	id := s.nextMsg
	now := time.Now()
	s.messages[id] = &Message{ID: id, ChatID: chat.ID, FromUser: from.ID, Text: text, Kind: kind, Date: now}
	msg := map[string]any{
		"message_id": id, "date": now.Unix(),
		"chat": chatJSON(chat), "from": userJSON(from),
	}
	return msg, id
}

func (s *Server) pushLocked(key string, v any) int64 {
	s.nextUpd++
	id := s.nextUpd
	// update_id first, as Telegram writes it (a map would sort it last).
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	k, _ := json.Marshal(key)
	raw := fmt.Appendf(nil, `{"update_id":%d,%s:%s}`, id, k, body)
	s.pending = append(s.pending, pendingUpdate{id: id, raw: raw})
	s.broadcastLocked()
	return id
}

// SendText queues a text message from a person and returns its message id.
func (s *Server) SendText(chat Chat, from User, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, id := s.newMessageLocked(chat, from, "text", text)
	msg["text"] = text
	if e := commandEntities(text); e != nil {
		msg["entities"] = e
	}
	s.pushLocked("message", msg)
	return id
}

// AddFile stores a file the bot can fetch with getFile and returns its id.
func (s *Server) AddFile(data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addFileLocked(data)
}

func (s *Server) addFileLocked(data []byte) string {
	s.nextFile++
	id := fmt.Sprintf("file-%d", s.nextFile)
	s.files[id] = append([]byte(nil), data...)
	return id
}

// SendPhoto queues a photo message. Like Telegram it offers several sizes:
// a small thumbnail (garbage bytes, so a bot that picks it fails) and the
// full image. reportedSize, when >0, overrides the file_size Telegram
// reports for the large size (to test size limits without big uploads).
func (s *Server) SendPhoto(chat Chat, from User, img []byte, caption string, reportedSize int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, id := s.newMessageLocked(chat, from, "photo", caption)
	thumb := s.addFileLocked([]byte("not the real image"))
	full := s.addFileLocked(img)
	size := len(img)
	if reportedSize > 0 {
		size = reportedSize
	}
	msg["photo"] = []map[string]any{
		{"file_id": thumb, "file_unique_id": thumb + "u", "width": 90, "height": 90, "file_size": 18},
		{"file_id": full, "file_unique_id": full + "u", "width": 800, "height": 800, "file_size": size},
	}
	if caption != "" {
		msg["caption"] = caption
	}
	s.pushLocked("message", msg)
	return id
}

// SendDocument queues a file message.
func (s *Server) SendDocument(chat Chat, from User, name, mime string, data []byte, caption string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, id := s.newMessageLocked(chat, from, "document", caption)
	fid := s.addFileLocked(data)
	msg["document"] = map[string]any{"file_id": fid, "file_unique_id": fid + "u", "file_name": name, "mime_type": mime, "file_size": len(data)}
	if caption != "" {
		msg["caption"] = caption
	}
	s.pushLocked("message", msg)
	return id
}

// PressButton queues a callback query for the button with data on the bot's
// message messageID, as if from pressed it. It returns the query id.
func (s *Server) PressButton(chat Chat, from User, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[messageID]
	text := ""
	if m != nil {
		text = m.Text
	}
	qid := fmt.Sprintf("cq-%d", s.nextUpd+1)
	cq := map[string]any{
		"id": qid, "from": userJSON(from), "chat_instance": "ci", "data": data,
		"message": map[string]any{
			"message_id": messageID, "date": time.Now().Unix(), "chat": chatJSON(chat),
			"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "authbot"}, "text": text,
		},
	}
	s.pushLocked("callback_query", cq)
	return qid
}

// PushRaw queues an update given as JSON without update_id; it returns the id.
func (s *Server) PushRaw(key string, v any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushLocked(key, v)
}

// MaxConcurrentPolls is the most getUpdates calls that were in flight at
// once: more than 1 means two processes polled the bot at the same time.
func (s *Server) MaxConcurrentPolls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxPolling
}

// Pending is the number of updates not yet confirmed by an offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Fail429 makes the next n calls of method answer 429 with retry_after.
func (s *Server) Fail429(method string, n, retryAfter int) {
	s.addFault(method, n, fault{retryAfter: retryAfter})
}

// Drop makes the next n calls of method fail at the network level: the
// connection is closed without an answer.
func (s *Server) Drop(method string, n int) { s.addFault(method, n, fault{drop: true}) }

// FailWith makes the next n calls of method answer with an error code and
// description, e.g. 500 "Internal Server Error".
func (s *Server) FailWith(method string, n, code int, desc string) {
	s.addFault(method, n, fault{status: code, desc: desc})
}

func (s *Server) addFault(method string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], f)
	}
}

// Undeletable makes deleteMessage fail in chat, as when the bot is not an
// admin of a group.
func (s *Server) Undeletable(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.undeletable[chatID] = true
}

// MakeAdmin makes the bot an admin of group chatID allowed to delete
// messages: there it may delete what others sent.
func (s *Server) MakeAdmin(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admin[chatID] = true
}

// Age makes message id older by d, as if it had been sent d earlier: past
// MaxDeleteAge, deleteMessage refuses it like Telegram does. It reports
// whether the message exists.
func (s *Server) Age(id int, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		return false
	}
	m.Date = m.Date.Add(-d)
	return true
}

// Calls returns a copy of every call so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of method.
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Message returns the fake's record of a message.
func (s *Server) Message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// WaitCall waits until a call after the first `after` calls satisfies match,
// or timeout passes. It returns the call and its index. Tests use it to poll
// for an expected call with a deadline instead of sleeping.
func (s *Server) WaitCall(after int, timeout time.Duration, match func(Call) bool) (Call, int, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := after; i < len(s.calls); i++ {
			if match(s.calls[i]) {
				c := s.calls[i]
				s.mu.Unlock()
				return c, i, true
			}
		}
		wake := s.callWake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			return Call{}, -1, false
		}
	}
}

// NumCalls is the number of calls so far (an index for WaitCall).
func (s *Server) NumCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Method matches calls by method and, optionally, chat_id.
func Method(method string, chatID int64) func(Call) bool {
	return func(c Call) bool {
		return c.Method == method && c.Error == "" && !c.Dropped &&
			(chatID == 0 || c.Fields["chat_id"] == strconv.FormatInt(chatID, 10))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type apiError struct {
	code int
	desc string
}

func (e *apiError) Error() string { return e.desc }

func badRequest(desc string) *apiError { return &apiError{code: 400, desc: "Bad Request: " + desc} }

// ServeHTTP implements the Bot API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.Token+"/"); ok {
		s.serveFile(w, rest)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.Token+"/")
	if !ok {
		writeJSON(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	call := Call{Method: method, Fields: map[string]string{}, Files: map[string]FilePart{}, At: time.Now()}
	call.ContentType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	if call.ContentType == "application/json" {
		// The Bot API takes a JSON object as well as a form (no files).
		if err := jsonFields(r.Body, call.Fields); err != nil {
			call.Error = "Bad Request: " + err.Error()
			s.mu.Lock()
			s.recordLocked(call)
			s.mu.Unlock()
			writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": call.Error})
			return
		}
	} else {
		// A call without params (getMe) is an empty body under a multipart
		// Content-Type: the parse error is expected.
		_ = r.ParseMultipartForm(32 << 20)
		for k, v := range r.Form {
			call.Fields[k] = v[0]
		}
		if r.MultipartForm != nil {
			for k, fhs := range r.MultipartForm.File {
				call.Files[k] = readPart(fhs[0])
			}
		}
	}

	s.mu.Lock()
	if fs := s.faults[method]; len(fs) > 0 {
		f := fs[0]
		s.faults[method] = fs[1:]
		switch {
		case f.drop:
			call.Dropped = true
			s.recordLocked(call)
			s.mu.Unlock()
			dropConn(w)
			return
		case f.retryAfter > 0:
			call.Error = fmt.Sprintf("Too Many Requests: retry after %d", f.retryAfter)
			s.recordLocked(call)
			s.mu.Unlock()
			writeJSON(w, 429, map[string]any{"ok": false, "error_code": 429, "description": call.Error,
				"parameters": map[string]any{"retry_after": f.retryAfter}})
			return
		default:
			call.Error = f.desc
			s.recordLocked(call)
			s.mu.Unlock()
			writeJSON(w, f.status, map[string]any{"ok": false, "error_code": f.status, "description": f.desc})
			return
		}
	}
	s.mu.Unlock()

	if method == "getUpdates" {
		s.getUpdates(w, r, call)
		return
	}
	s.mu.Lock()
	result, msgID, err := s.handleLocked(method, call)
	call.MessageID = msgID
	if err != nil {
		call.Error = err.desc
	}
	s.recordLocked(call)
	s.mu.Unlock()
	if err != nil {
		body := map[string]any{"ok": false, "error_code": err.code, "description": err.desc}
		writeJSON(w, err.code, body)
		return
	}
	writeJSON(w, 200, map[string]any{"ok": true, "result": result})
}

// jsonFields reads a JSON body into fields the way a form would carry
// them: a string is its text, null is left out, anything else is its
// compact JSON (a nested reply_markup object reads like the form field
// that holds it as JSON text). An empty body is no parameters.
func jsonFields(body io.Reader, fields map[string]string) error {
	raw, err := io.ReadAll(io.LimitReader(body, 32<<20))
	if err != nil {
		return fmt.Errorf("can't read request body")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("can't parse JSON object")
	}
	for k, v := range obj {
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return fmt.Errorf("can't parse JSON object")
			}
			fields[k] = str
		default:
			var c bytes.Buffer
			if err := json.Compact(&c, v); err != nil {
				return fmt.Errorf("can't parse JSON object")
			}
			fields[k] = c.String()
		}
	}
	return nil
}

func readPart(fh *multipart.FileHeader) FilePart {
	f, err := fh.Open()
	if err != nil {
		return FilePart{Name: fh.Filename}
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	return FilePart{Name: fh.Filename, Data: data}
}

func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("telegramtest: cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func (s *Server) serveFile(w http.ResponseWriter, path string) {
	s.mu.Lock()
	data, ok := s.files[strings.TrimPrefix(path, "documents/")]
	s.recordLocked(Call{Method: "download", Fields: map[string]string{"path": path}, At: time.Now()})
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, call Call) {
	offset, _ := strconv.ParseInt(call.Fields["offset"], 10, 64)
	limit, _ := strconv.Atoi(call.Fields["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(call.Fields["timeout"])
	wait := min(time.Duration(timeout)*time.Second, s.LongPoll)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	s.mu.Lock()
	if s.webhook != "" {
		call.Error = "Conflict: can't use getUpdates method while webhook is active"
		s.recordLocked(call)
		s.mu.Unlock()
		writeJSON(w, 409, map[string]any{"ok": false, "error_code": 409, "description": call.Error})
		return
	}
	s.recordLocked(call)
	s.polling++
	s.maxPolling = max(s.maxPolling, s.polling)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.polling--
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		// Updates below offset are confirmed: Telegram forgets them.
		if offset > 0 {
			keep := s.pending[:0]
			for _, u := range s.pending {
				if u.id >= offset {
					keep = append(keep, u)
				}
			}
			s.pending = keep
		}
		var out []json.RawMessage
		for _, u := range s.pending {
			if len(out) == limit {
				break
			}
			out = append(out, u.raw)
		}
		wake := s.wake
		s.mu.Unlock()
		if len(out) > 0 || wait <= 0 {
			if out == nil {
				out = []json.RawMessage{}
			}
			writeJSON(w, 200, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			wait = 0
		case <-r.Context().Done():
			return
		}
	}
}

type button struct {
	Text         string           `json:"text"`
	CallbackData *string          `json:"callback_data"`
	URL          *string          `json:"url"`
	CopyText     *json.RawMessage `json:"copy_text"`
	WebApp       *json.RawMessage `json:"web_app"`
}

func checkMarkup(markup string) *apiError {
	if markup == "" {
		return nil
	}
	var kb struct {
		InlineKeyboard [][]button `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(markup), &kb); err != nil {
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	n := 0
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			n++
			if b.Text == "" {
				return badRequest("BUTTON_TEXT_EMPTY")
			}
			kinds := 0
			if b.CallbackData != nil {
				kinds++
				if len(*b.CallbackData) == 0 || len(*b.CallbackData) > 64 {
					return badRequest("BUTTON_DATA_INVALID")
				}
			}
			if b.URL != nil {
				kinds++
				if !strings.HasPrefix(*b.URL, "https://") && !strings.HasPrefix(*b.URL, "http://") && !strings.HasPrefix(*b.URL, "tg://") {
					return badRequest("BUTTON_URL_INVALID")
				}
			}
			if b.WebApp != nil {
				kinds++
				var wa struct{ URL string }
				if json.Unmarshal(*b.WebApp, &wa) != nil || !strings.HasPrefix(wa.URL, "https://") {
					return badRequest("BUTTON_URL_INVALID")
				}
			}
			if b.CopyText != nil {
				kinds++
				var ct struct{ Text string }
				if json.Unmarshal(*b.CopyText, &ct) != nil || ct.Text == "" {
					return badRequest("BUTTON_COPY_TEXT_INVALID")
				}
			}
			if kinds != 1 {
				return badRequest("BUTTON_TYPE_INVALID")
			}
		}
	}
	if n > 100 {
		return badRequest("reply markup is too long")
	}
	return nil
}

// parseHTML checks text in Telegram's HTML parse mode and returns its length
// in UTF-16 code units after parsing, and the number of entities.
func parseHTML(text string) (int, int, *apiError) {
	allowed := map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
		"s": true, "strike": true, "del": true, "code": true, "pre": true, "a": true, "tg-spoiler": true,
		"blockquote": true, "span": true}
	var stack []string
	var plain strings.Builder
	entities := 0
	for i := 0; i < len(text); {
		c := text[i]
		switch c {
		case '<':
			j := strings.IndexByte(text[i:], '>')
			if j < 0 {
				return 0, 0, badRequest("can't parse entities: unclosed start tag")
			}
			tag := text[i+1 : i+j]
			i += j + 1
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return 0, 0, badRequest("can't parse entities: unmatched end tag " + name)
				}
				stack = stack[:len(stack)-1]
				continue
			}
			name, _, _ := strings.Cut(tag, " ")
			if !allowed[name] {
				return 0, 0, badRequest("can't parse entities: unsupported start tag \"" + name + "\"")
			}
			stack = append(stack, name)
			entities++
		case '&':
			j := strings.IndexByte(text[i:], ';')
			if j < 0 || j > 10 {
				return 0, 0, badRequest("can't parse entities: unescaped &")
			}
			ent := html.UnescapeString(text[i : i+j+1])
			if ent == text[i:i+j+1] {
				return 0, 0, badRequest("can't parse entities: unknown entity")
			}
			plain.WriteString(ent)
			i += j + 1
		case '>':
			return 0, 0, badRequest("can't parse entities: unescaped >")
		default:
			plain.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return 0, 0, badRequest("can't parse entities: unclosed tag " + stack[len(stack)-1])
	}
	return len(utf16.Encode([]rune(plain.String()))), entities, nil
}

func checkText(text, parseMode string, max int) *apiError {
	n := len(utf16.Encode([]rune(text)))
	if parseMode == "HTML" {
		var err *apiError
		var ents int
		n, ents, err = parseHTML(text)
		if err != nil {
			return err
		}
		if ents > 100 {
			return badRequest("too many entities")
		}
	}
	if strings.TrimSpace(text) == "" && max == 4096 {
		return badRequest("message text is empty")
	}
	if n > max {
		if max == 4096 {
			return badRequest("message is too long")
		}
		return badRequest("message caption is too long")
	}
	return nil
}

func (s *Server) botMessageLocked(chatID int64, kind, text, markup string) (map[string]any, int) {
	s.nextMsg++
	id := s.nextMsg
	now := time.Now()
	s.messages[id] = &Message{ID: id, ChatID: chatID, FromBot: true, Text: text, Markup: markup, Kind: kind, Date: now}
	m := map[string]any{
		"message_id": id, "date": now.Unix(),
		"chat": map[string]any{"id": chatID, "type": chatType(chatID)},
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "authbot", "username": BotUsername},
	}
	if kind == "text" {
		m["text"] = text
	}
	return m, id
}

func chatType(id int64) string {
	if id < 0 {
		return "group"
	}
	return "private"
}

func (s *Server) handleLocked(method string, c Call) (any, int, *apiError) {
	f := c.Fields
	chatID, _ := strconv.ParseInt(f["chat_id"], 10, 64)
	switch method {
	case "getMe":
		return map[string]any{"id": BotID, "is_bot": true, "first_name": "authbot", "username": BotUsername}, 0, nil
	case "setMyCommands":
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(f["commands"]), &cmds); err != nil || len(cmds) > 100 {
			return nil, 0, badRequest("invalid commands")
		}
		// Real Telegram: language_code is empty (every language) or a
		// two-letter ISO 639-1 code; "pt-br" is refused.
		if lc := f["language_code"]; lc != "" && !twoLetters(lc) {
			return nil, 0, badRequest("invalid language code specified")
		}
		for _, c := range cmds {
			if len(c.Command) == 0 || len(c.Command) > 32 || strings.ToLower(c.Command) != c.Command || len(c.Description) == 0 || len(c.Description) > 256 {
				return nil, 0, badRequest("BOT_COMMAND_INVALID")
			}
		}
		return true, 0, nil
	case "setChatMenuButton":
		// Real Telegram: menu_button is a MenuButton; a web_app one needs
		// text and an https URL.
		var mb struct {
			Type   string `json:"type"`
			Text   string `json:"text"`
			WebApp *struct {
				URL string `json:"url"`
			} `json:"web_app"`
		}
		if f["menu_button"] != "" {
			if err := json.Unmarshal([]byte(f["menu_button"]), &mb); err != nil {
				return nil, 0, badRequest("can't parse menu button")
			}
			switch mb.Type {
			case "default", "commands":
			case "web_app":
				if mb.Text == "" || mb.WebApp == nil || !strings.HasPrefix(mb.WebApp.URL, "https://") {
					return nil, 0, badRequest("BUTTON_URL_INVALID")
				}
			default:
				return nil, 0, badRequest("unsupported menu button type")
			}
		}
		return true, 0, nil
	case "deleteWebhook":
		s.webhook = ""
		return true, 0, nil
	case "setWebhook":
		s.webhook = f["url"]
		return true, 0, nil
	case "sendMessage":
		if chatID == 0 {
			return nil, 0, badRequest("chat_id is empty")
		}
		if err := checkText(f["text"], f["parse_mode"], 4096); err != nil {
			return nil, 0, err
		}
		if err := checkMarkup(f["reply_markup"]); err != nil {
			return nil, 0, err
		}
		m, id := s.botMessageLocked(chatID, "text", f["text"], f["reply_markup"])
		return m, id, nil
	case "sendPhoto", "sendDocument":
		field := "photo"
		if method == "sendDocument" {
			field = "document"
		}
		if _, ok := c.Files[field]; !ok && f[field] == "" {
			return nil, 0, badRequest("there is no " + field + " in the request")
		}
		if err := checkText(f["caption"], f["parse_mode"], 1024); err != nil {
			return nil, 0, err
		}
		if err := checkMarkup(f["reply_markup"]); err != nil {
			return nil, 0, err
		}
		m, id := s.botMessageLocked(chatID, field, f["caption"], f["reply_markup"])
		return m, id, nil
	case "editMessageText":
		id, _ := strconv.Atoi(f["message_id"])
		m := s.messages[id]
		if m == nil || m.Deleted || m.ChatID != chatID || !m.FromBot {
			return nil, 0, badRequest("message to edit not found")
		}
		if err := checkText(f["text"], f["parse_mode"], 4096); err != nil {
			return nil, 0, err
		}
		if err := checkMarkup(f["reply_markup"]); err != nil {
			return nil, 0, err
		}
		if m.Text == f["text"] && m.Markup == f["reply_markup"] {
			return nil, 0, badRequest("message is not modified")
		}
		m.Text, m.Markup = f["text"], f["reply_markup"]
		m.Edited++
		out, _ := s.botMessageLocked(chatID, "text", m.Text, m.Markup)
		out["message_id"] = id
		delete(s.messages, s.nextMsg)
		s.nextMsg--
		return out, id, nil
	case "deleteMessage":
		id, _ := strconv.Atoi(f["message_id"])
		m := s.messages[id]
		if m == nil || m.Deleted || m.ChatID != chatID {
			return nil, 0, badRequest("message to delete not found")
		}
		if s.undeletable[chatID] || (chatID < 0 && !m.FromBot && !s.admin[chatID]) || time.Since(m.Date) > MaxDeleteAge {
			return nil, 0, badRequest("message can't be deleted")
		}
		m.Deleted = true
		return true, 0, nil
	case "answerCallbackQuery":
		if f["callback_query_id"] == "" {
			return nil, 0, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		if len(f["text"]) > 200 {
			return nil, 0, badRequest("MESSAGE_TOO_LONG")
		}
		return true, 0, nil
	case "getFile":
		id := f["file_id"]
		data, ok := s.files[id]
		if !ok {
			return nil, 0, badRequest("wrong file_id or the file is temporarily unavailable")
		}
		if len(data) > 20<<20 {
			return nil, 0, badRequest("file is too big")
		}
		return map[string]any{"file_id": id, "file_unique_id": id + "u", "file_size": len(data), "file_path": "documents/" + id}, 0, nil
	}
	return nil, 0, &apiError{code: 404, desc: "Not Found: method not found"}
}

func twoLetters(s string) bool {
	return len(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'
}
