package action

import "testing"

func TestEventCarries(t *testing.T) {
	t.Parallel()
	wd, err := ParseEvent(EventWorkflowDispatch, []byte(`{"inputs":{"enqueue":" @x.json ","other":"{\"job\":\"a\"}"}}`))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ParseEvent(EventRepositoryDispatch, []byte(`{"action":"cronrelay","client_payload":{"job":"a","note":["@secret.txt"],"@key":1,"nested":{"x":"y"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := ParseEvent(EventSchedule, []byte(`{"schedule":"*/5 * * * *"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ev   *Event
		v    string
		want bool
	}{
		{"a forwarded input", wd, "@x.json", true},
		{"another forwarded input", wd, `{"job":"a"}`, true},
		{"a with: literal", wd, "@requests.json", false},
		{"empty", wd, "", false},
		{"a string deep in client_payload", rd, "@secret.txt", true},
		{"a key of client_payload", rd, "@key", true},
		{"a forwarded object", rd, `{"x":"y"}`, true},
		{"the whole client_payload is read by cronrelay itself", rd, "@other", false},
		{"a schedule event carries nothing", sched, "@x.json", false},
	} {
		if got := tc.ev.Carries(tc.v); got != tc.want {
			t.Errorf("%s: Carries(%q) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}
