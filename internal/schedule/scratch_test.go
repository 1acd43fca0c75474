package schedule
import ("testing";"time")
func TestScratch(t *testing.T){
 be,_ := time.LoadLocation("Europe/Berlin")
 for _, e := range []string{"30 2 * * *","0,30 2 * * *","0 2,3 * * *","*/30 * * * *","30 2 * * *", "0 0 30 2 *", "0 0 31 4,6 *","0 0 29 2 */5","0 0 5#5 2 *","0 0 */1 2 4#5", "0 0 29 2 *", "61 * * * *", "@weekdays", "* * * * * *", "0 0 0 * *", "1-5/0 * * * *"} {
  s, err := Parse(e, be)
  if err != nil { t.Log(e, "ERR", err); continue }
  t.Log(e, s.Occurrences(time.Date(2026,3,28,23,0,0,0,time.UTC), time.Date(2026,3,29,3,0,0,0,time.UTC), 10))
  t.Log(e, s.Occurrences(time.Date(2026,10,24,23,0,0,0,time.UTC), time.Date(2026,10,25,3,0,0,0,time.UTC), 10))
  p, ok := s.Prev(time.Date(2026,10,25,1,45,0,0,time.UTC)); t.Log("prev", p, ok)
 }
}
