package telegramtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

const token = "123456:TEST-token_abc"

// TestJSONLikeForm: a call sent as a JSON object is read as the same
// fields as the library's multipart form of it, and a body that is not a
// JSON object is refused with a 400, as the Bot API does.
func TestJSONLikeForm(t *testing.T) {
	api := telegramtest.New(token)
	defer api.Close()
	lib, err := bot.New(token, bot.WithServerURL(api.URL()), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	markup := map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Refresh", "callback_data": "/code x"}}}}
	if _, err := lib.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1001, Text: "<code>1</code>", ParseMode: models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()}, ReplyMarkup: markup}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"chat_id": 1001, "text": "<code>1</code>", "parse_mode": "HTML",
		"link_preview_options": map[string]bool{"is_disabled": true}, "reply_markup": markup, "reply_to_message_id": nil})
	post := func(ctype, body string) *http.Response {
		t.Helper()
		resp, err := http.Post(api.URL()+"/bot"+token+"/sendMessage", ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("application/json; charset=utf-8", string(body)); resp.StatusCode != 200 {
		t.Fatalf("JSON sendMessage: HTTP %d", resp.StatusCode)
	}
	calls := api.CallsTo("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	form, js := calls[0], calls[1]
	if form.ContentType != "multipart/form-data" || js.ContentType != "application/json" {
		t.Errorf("content types %q, %q", form.ContentType, js.ContentType)
	}
	if len(form.Fields) != len(js.Fields) {
		t.Errorf("form %v, JSON %v", form.Fields, js.Fields)
	}
	for k, v := range form.Fields {
		if js.Fields[k] != v {
			t.Errorf("%s: form %q, JSON %q", k, v, js.Fields[k])
		}
	}
	for _, bad := range []string{`[1,2]`, `{"chat_id":`, `"text"`} {
		if resp := post("application/json", bad); resp.StatusCode != 400 {
			t.Errorf("body %s: HTTP %d, want 400", bad, resp.StatusCode)
		}
	}
	if c := api.Calls()[len(api.Calls())-1]; !strings.HasPrefix(c.Error, "Bad Request") {
		t.Errorf("bad JSON recorded as %q", c.Error)
	}
}
