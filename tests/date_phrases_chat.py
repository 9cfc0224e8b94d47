"""Deadline phrases as people type them in chat and email, Chinese (simplified and traditional) and English.

More rows for the same table as tests/date_phrases.py: same reference moment (Thursday 2026-11-26 14:00
on the wall clock of each row's zone), same conventions, and (phrase, zone, expected local minute or None).
Rows that name another zone expect the same instant shown in the row's zone. None means the phrase is
unclear, contradictory, impossible or not a single deadline, and must not be guessed.
"""

from __future__ import annotations

from tests.date_phrases import NY, SH, UTC, Phrase

MORE_PHRASES: list[Phrase] = [
    # --- clock times with am/pm, 24-hour clock and minutes past/to ------------------------------------------
    ("at 11pm", SH, "2026-11-26 23:00"),
    ("11 p.m.", SH, "2026-11-26 23:00"),
    ("at 6 am", SH, "2026-11-27 06:00"),  # 06:00 today has passed: tomorrow
    ("at 12am", SH, "2026-11-27 00:00"),  # 12am is midnight, the start of tomorrow
    ("at 12pm", SH, "2026-11-27 12:00"),  # 12pm is noon; today's has passed
    ("12 noon", SH, "2026-11-27 12:00"),
    ("at noon", SH, "2026-11-27 12:00"),
    ("at midnight", SH, "2026-11-27 00:00"),
    ("9:30 pm", SH, "2026-11-26 21:30"),
    ("7:45am", SH, "2026-11-27 07:45"),
    ("at 1pm", SH, "2026-11-27 13:00"),  # 13:00 today has passed: tomorrow
    ("23:00", SH, "2026-11-26 23:00"),
    ("07:45", SH, "2026-11-27 07:45"),  # 07:45 today has passed: tomorrow
    ("00:30", SH, "2026-11-27 00:30"),
    ("at 1030", SH, "2026-11-27 10:30"),  # military time 10:30, passed today: tomorrow
    ("at 1630", SH, "2026-11-26 16:30"),  # military time 16:30, still ahead today
    ("quarter past 3pm", SH, "2026-11-26 15:15"),
    ("a quarter past 3pm", SH, "2026-11-26 15:15"),
    ("quarter to 5pm", SH, "2026-11-26 16:45"),
    ("20 past 3pm", SH, "2026-11-26 15:20"),
    ("half past 4pm", SH, "2026-11-26 16:30"),
    ("half past four", SH, "2026-11-26 16:30"),  # bare hour 4 is afternoon (1-7 rule)
    ("20 to 5", SH, "2026-11-26 16:40"),  # 4:40, bare hour is afternoon (1-7 rule)
    ("twenty to five", SH, "2026-11-26 16:40"),  # same as 20 to 5
    ("half past ten", SH, "2026-11-27 10:30"),  # bare 10 is morning (like 十点半); passed today: tomorrow
    # --- clock times with a day or a part of the day (English) ----------------------------------------------
    ("tomorrow at 10pm", SH, "2026-11-27 22:00"),
    ("tomorrow at noon", SH, "2026-11-27 12:00"),
    ("EOD tomorrow", SH, "2026-11-27 18:00"),
    ("today at 5:30pm", SH, "2026-11-26 17:30"),
    ("tonight at 11", SH, "2026-11-26 23:00"),  # tonight makes 11 an evening hour
    ("this afternoon at 4", SH, "2026-11-26 16:00"),
    ("this evening", SH, "2026-11-26 21:00"),  # evening without an hour: 21:00, like tonight
    ("this afternoon", SH, "2026-11-26 18:00"),  # afternoon without an hour: 18:00, like 下午
    ("tomorrow evening", SH, "2026-11-27 21:00"),
    ("Friday at 11pm", SH, "2026-11-27 23:00"),
    ("Monday 9:30am", SH, "2026-11-30 09:30"),
    ("next Tuesday 10:30am", SH, "2026-12-01 10:30"),
    # --- clock times (Chinese) ------------------------------------------------------------------------------
    ("3点一刻", SH, "2026-11-26 15:15"),  # bare 3 is afternoon (1-7 rule); 一刻 = 15 minutes
    ("差五分三点", SH, "2026-11-26 14:55"),  # five to three: 14:55, still ahead today
    ("凌晨两点", SH, "2026-11-27 02:00"),  # early hours: tomorrow 02:00
    ("晚上十一点半", SH, "2026-11-26 23:30"),
    ("下午三点四十五", SH, "2026-11-26 15:45"),
    ("下午四点三刻", SH, "2026-11-26 16:45"),  # 三刻 = 45 minutes
    ("下午5点差一刻", SH, "2026-11-26 16:45"),
    ("傍晚6点", SH, "2026-11-26 18:00"),
    ("早上八点", SH, "2026-11-27 08:00"),
    ("上午十点半", SH, "2026-11-27 10:30"),
    ("中午十二点", SH, "2026-11-27 12:00"),
    ("夜里12点", SH, "2026-11-27 00:00"),  # midnight at the end of today
    ("明晚十点", SH, "2026-11-27 22:00"),
    ("明早七点半", SH, "2026-11-27 07:30"),
    ("今天晚上11点", SH, "2026-11-26 23:00"),
    ("明天凌晨1点", SH, "2026-11-27 01:00"),  # the early hours of tomorrow
    ("明天下午四点一刻", SH, "2026-11-27 16:15"),
    ("周五晚上10点", SH, "2026-11-27 22:00"),
    ("下周二上午10点", SH, "2026-12-01 10:00"),
    # traditional characters
    ("下午四點", SH, "2026-11-26 16:00"),
    ("晚上十點半", SH, "2026-11-26 22:30"),
    ("凌晨兩點", SH, "2026-11-27 02:00"),
    ("明天早上八點", SH, "2026-11-27 08:00"),
    ("今晚十一點", SH, "2026-11-26 23:00"),
    ("週五下午三點半", SH, "2026-11-27 15:30"),
    # --- days: yesterday's and tomorrow's neighbours --------------------------------------------------------
    ("the day before yesterday", SH, "2026-11-24 18:00"),  # a past day is still returned
    ("前天", SH, "2026-11-24 18:00"),
    ("day after tomorrow", SH, "2026-11-28 18:00"),
    ("後天", SH, "2026-11-28 18:00"),
    ("后日", SH, "2026-11-28 18:00"),
    ("大後天", SH, "2026-11-29 18:00"),
    ("tmrw", SH, "2026-11-27 18:00"),
    ("EOD Monday", SH, "2026-11-30 18:00"),
    ("COB Friday", SH, "2026-11-27 18:00"),
    # --- days: weekdays -------------------------------------------------------------------------------------
    ("on Friday", SH, "2026-11-27 18:00"),
    ("this coming Monday", SH, "2026-11-30 18:00"),
    ("Tues", SH, "2026-12-01 18:00"),
    ("Thurs", SH, "2026-11-26 18:00"),  # today is Thursday
    ("星期四", SH, "2026-11-26 18:00"),  # today is Thursday
    ("禮拜天", SH, "2026-11-29 18:00"),
    ("下周三", SH, "2026-12-02 18:00"),
    ("下週五", SH, "2026-12-04 18:00"),
    ("下禮拜五", SH, "2026-12-04 18:00"),
    ("下下周三", SH, "2026-12-09 18:00"),  # Wednesday of the week after next
    ("next Wednesday", SH, "2026-12-02 18:00"),
    ("next Thursday", SH, "2026-12-03 18:00"),  # Thursday of next week, not today
    # --- days of the month ----------------------------------------------------------------------------------
    ("the 3rd", SH, "2026-12-03 18:00"),  # the next 3rd from today
    ("on the first", SH, "2026-12-01 18:00"),
    ("the 30th", SH, "2026-11-30 18:00"),
    ("on the 26th", SH, "2026-11-26 18:00"),  # today is the 26th
    ("by the 15th", SH, "2026-12-15 18:00"),
    ("the 31st", SH, "2026-12-31 18:00"),  # November has no 31st: December's
    ("26号", SH, "2026-11-26 18:00"),  # today
    ("这个月30号", SH, "2026-11-30 18:00"),
    ("下个月20号", SH, "2026-12-20 18:00"),
    ("下個月20號", SH, "2026-12-20 18:00"),
    # --- dates: month and day -------------------------------------------------------------------------------
    ("first of March", SH, "2027-03-01 18:00"),
    ("March 1st", SH, "2027-03-01 18:00"),
    ("Nov 26", SH, "2026-11-26 18:00"),  # today
    ("Nov 20", SH, "2027-11-20 18:00"),  # passed this year: next year
    ("3月3号", SH, "2027-03-03 18:00"),
    ("三月三号", SH, "2027-03-03 18:00"),
    ("12月24日", SH, "2026-12-24 18:00"),
    ("12月24號", SH, "2026-12-24 18:00"),
    ("十二月二十五日", SH, "2026-12-25 18:00"),
    ("12月24日晚上8点", SH, "2026-12-24 20:00"),
    ("Dec 24 at 5pm", SH, "2026-12-24 17:00"),
    # --- dates with a weekday: consistent (dates checked with datetime) -------------------------------------
    ("Thursday the 3rd of December", SH, "2026-12-03 18:00"),  # 2026-12-03 is a Thursday
    ("Thursday, December 3", SH, "2026-12-03 18:00"),
    ("周四，12月3日", SH, "2026-12-03 18:00"),
    ("12月3日（周四）", SH, "2026-12-03 18:00"),
    ("12月4日星期五", SH, "2026-12-04 18:00"),  # 2026-12-04 is a Friday
    ("Friday, Dec 4", SH, "2026-12-04 18:00"),
    ("Monday the 30th", SH, "2026-11-30 18:00"),  # 2026-11-30 is a Monday
    ("週四，12月3日", SH, "2026-12-03 18:00"),
    # --- dates with a weekday that contradicts them: None ---------------------------------------------------
    ("Friday the 3rd", SH, None),  # the next 3rd, 2026-12-03, is a Thursday
    ("周日，二月十号", SH, None),  # 2027-02-10 is a Wednesday
    ("Monday, December 3", SH, None),  # 2026-12-03 is a Thursday
    ("周五，12月3日", SH, None),  # 2026-12-03 is a Thursday
    ("12月3日星期五", SH, None),
    ("Tuesday the 30th", SH, None),  # 2026-11-30 is a Monday
    # --- dates that do not exist: None ----------------------------------------------------------------------
    ("the 31st of November", SH, None),
    ("November 31", SH, None),
    ("2月30日", SH, None),
    ("二月三十号", SH, None),
    ("13月5日", SH, None),
    ("32号", SH, None),
    # --- weeks: a week as a deadline is its Friday 18:00 ----------------------------------------------------
    ("coming week", SH, "2026-12-04 18:00"),  # the week after this one
    ("the coming week", SH, "2026-12-04 18:00"),
    ("这一周", SH, "2026-11-27 18:00"),
    ("本週", SH, "2026-11-27 18:00"),
    ("end of this week", SH, "2026-11-27 18:00"),
    ("下个星期", SH, "2026-12-04 18:00"),
    ("下週", SH, "2026-12-04 18:00"),
    ("下周末前", SH, "2026-12-04 18:00"),  # like 这周末前: Friday of that week
    ("by the end of next week", SH, "2026-12-04 18:00"),
    ("上个星期", SH, "2026-11-20 18:00"),  # end of last week: a past Friday
    ("上週", SH, "2026-11-20 18:00"),
    ("上周", SH, "2026-11-20 18:00"),
    ("last week", SH, "2026-11-20 18:00"),
    # --- weekends: a week's deadline, the end of its last working day (Friday 18:00), as 本周末 and ------------
    # 'by the weekend' in date_phrases.py: work is due before the weekend, not during it
    ("this weekend", SH, "2026-11-27 18:00"),
    ("next weekend", SH, "2026-12-04 18:00"),  # the Friday before next week's weekend
    # --- weeks counted from a day ---------------------------------------------------------------------------
    ("a week from Friday", SH, "2026-12-04 18:00"),
    ("a week from today", SH, "2026-12-03 14:00"),  # counted from now, like "3 days from today"
    ("three weeks from Friday", SH, "2026-12-18 18:00"),
    # '3 Fridays from now': Fridays counted from the next one, today being Thursday:
    # 2026-11-27 is the 1st, 2026-12-04 the 2nd, 2026-12-11 the 3rd.
    ("3 Fridays from now", SH, "2026-12-11 18:00"),
    # --- weekdays of a month --------------------------------------------------------------------------------
    ("first Tuesday of October", SH, "2027-10-05 18:00"),  # October 2026 has passed: 2027-10-05
    ("first Monday of December", SH, "2026-12-07 18:00"),
    ("first Friday of next month", SH, "2026-12-04 18:00"),
    ("last Friday of the month", SH, "2026-11-27 18:00"),  # the last Friday of November 2026
    ("last Friday of December", SH, "2026-12-25 18:00"),
    # --- months: a month as a deadline is its last day 18:00 ------------------------------------------------
    ("这个月底", SH, "2026-11-30 18:00"),
    ("this month", SH, "2026-11-30 18:00"),
    ("last day of the month", SH, "2026-11-30 18:00"),
    ("下个月", SH, "2026-12-31 18:00"),
    ("下個月", SH, "2026-12-31 18:00"),
    ("next month", SH, "2026-12-31 18:00"),
    ("end of December", SH, "2026-12-31 18:00"),
    ("1月底", SH, "2027-01-31 18:00"),
    ("2月底", SH, "2027-02-28 18:00"),  # 2027 is not a leap year
    ("明年3月底", SH, "2027-03-31 18:00"),
    # --- start and middle of a month ------------------------------------------------------------------------
    ("下月中", SH, "2026-12-15 18:00"),  # 月中 = the 15th
    ("下个月中", SH, "2026-12-15 18:00"),
    ("月中前", SH, "2026-12-15 18:00"),  # November's 15th has passed
    ("mid December", SH, "2026-12-15 18:00"),
    ("12月初", SH, "2026-12-01 18:00"),
    ("first of next month", SH, "2026-12-01 18:00"),
    ("下個月初", SH, "2026-12-01 18:00"),
    # --- durations: minutes and hours -----------------------------------------------------------------------
    ("in a quarter of an hour", SH, "2026-11-26 14:15"),
    ("in 1/2 hour", SH, "2026-11-26 14:30"),
    ("in 90 minutes", SH, "2026-11-26 15:30"),
    ("in an hour and a half", SH, "2026-11-26 15:30"),
    ("in 1h30m", SH, "2026-11-26 15:30"),
    ("in two and a half hours", SH, "2026-11-26 16:30"),
    ("in 3 hrs", SH, "2026-11-26 17:00"),
    ("in 12 hours", SH, "2026-11-27 02:00"),
    ("in 36 hours", SH, "2026-11-28 02:00"),
    ("48 hours from now", SH, "2026-11-28 14:00"),
    ("一個半小時後", SH, "2026-11-26 15:30"),
    ("一刻钟后", SH, "2026-11-26 14:15"),
    ("一刻鐘後", SH, "2026-11-26 14:15"),
    ("两个半小时后", SH, "2026-11-26 16:30"),
    ("兩個半小時後", SH, "2026-11-26 16:30"),
    ("45分钟内", SH, "2026-11-26 14:45"),
    ("九十分钟后", SH, "2026-11-26 15:30"),
    ("3小时内", SH, "2026-11-26 17:00"),
    ("半天后", SH, "2026-11-27 02:00"),  # half a day = 12 hours
    ("48小时内", SH, "2026-11-28 14:00"),
    # --- durations: days, weeks, months (whole days keep the clock time 14:00) ------------------------------
    ("in two and a half days", SH, "2026-11-29 02:00"),  # 60 hours
    ("in 2.5 days", SH, "2026-11-29 02:00"),
    ("in a day and a half", SH, "2026-11-28 02:00"),
    ("两天半后", SH, "2026-11-29 02:00"),
    ("一天半后", SH, "2026-11-28 02:00"),
    ("in a week", SH, "2026-12-03 14:00"),
    ("a week from now", SH, "2026-12-03 14:00"),
    ("一個星期內", SH, "2026-12-03 14:00"),
    ("三周后", SH, "2026-12-17 14:00"),
    ("in six weeks", SH, "2027-01-07 14:00"),
    ("in 2 months", SH, "2027-01-26 14:00"),
    ("两个月后", SH, "2027-01-26 14:00"),
    # --- durations: working days (Monday to Friday) ---------------------------------------------------------
    ("in 3 business days", SH, "2026-12-01 14:00"),  # Fri, Mon, Tue
    ("within 2 business days", SH, "2026-11-30 14:00"),  # Fri, Mon
    ("两个工作日内", SH, "2026-11-30 14:00"),
    ("5个工作日内", SH, "2026-12-03 14:00"),  # Fri, Mon, Tue, Wed, Thu
    # --- another zone named in the phrase: the same instant on the row's wall clock -------------------------
    # Shanghai rows: now is 2026-11-26 14:00 CST = 06:00 UTC = 07:00 CET = 01:00 EST = 2026-11-25 22:00 PST.
    ("4pm CET", SH, "2026-11-26 23:00"),  # 16:00 CET (UTC+1) = 15:00 UTC
    ("8pm CET", SH, "2026-11-27 03:00"),  # 20:00 CET = 19:00 UTC
    ("9:00 PST", SH, "2026-11-27 01:00"),  # next 09:00 PST is on PST's Thursday = 17:00 UTC
    ("2pm Pacific time", SH, "2026-11-27 06:00"),  # 14:00 PST Thu = 22:00 UTC
    ("Thursday 8:00 PST", SH, "2026-11-27 00:00"),  # Thu 08:00 PST = 16:00 UTC
    ("10am New York time", SH, "2026-11-26 23:00"),  # 10:00 EST Thu = 15:00 UTC
    ("纽约时间上午10点", SH, "2026-11-26 23:00"),
    ("3pm EST", SH, "2026-11-27 04:00"),  # 15:00 EST Thu = 20:00 UTC
    ("Friday 5pm EST", SH, "2026-11-28 06:00"),  # Fri 17:00 EST = 22:00 UTC
    ("Dec 1 9am PST", SH, "2026-12-02 01:00"),  # 17:00 UTC
    ("9am GMT", SH, "2026-11-26 17:00"),
    ("noon London time", SH, "2026-11-26 20:00"),  # London is on GMT in November
    ("伦敦时间下午5点", SH, "2026-11-27 01:00"),
    ("14:00 UTC", SH, "2026-11-26 22:00"),
    ("10:00 JST", SH, "2026-11-27 09:00"),  # now is 15:00 JST: tomorrow's 10:00 JST
    ("东京时间下午4点", SH, "2026-11-26 15:00"),  # 16:00 JST = 07:00 UTC
    ("3pm Sydney time", SH, "2026-11-27 12:00"),  # Sydney is on AEDT (UTC+11); now 17:00 there
    # New York rows: now is 2026-11-26 14:00 EST = 19:00 UTC = 2026-11-27 03:00 in Beijing.
    ("北京时间下午三点", NY, "2026-11-27 02:00"),  # Beijing's next 15:00 is on Nov 27 = 07:00 UTC
    ("北京时间晚上8点", NY, "2026-11-27 07:00"),  # Nov 27 20:00+08 = 12:00 UTC
    ("9am Beijing time", NY, "2026-11-26 20:00"),  # Nov 27 09:00+08 = Nov 27 01:00 UTC
    ("台北時間下午三點", NY, "2026-11-27 02:00"),  # Taipei is UTC+8 like Beijing
    ("3pm PST", NY, "2026-11-26 18:00"),  # now 11:00 PST; 15:00 PST = 23:00 UTC
    ("5pm GMT", NY, "2026-11-27 12:00"),  # now 19:00 UTC: tomorrow's 17:00 UTC
    ("4pm CET", NY, "2026-11-27 10:00"),  # now 20:00 CET: tomorrow's 16:00 CET
    ("Friday 9am CET", NY, "2026-11-27 03:00"),  # Fri 09:00 CET = 08:00 UTC
    ("15:00 UTC", NY, "2026-11-27 10:00"),
    # UTC rows: now is 2026-11-26 14:00 UTC = 15:00 CET = 09:00 EST = 06:00 PST = 22:00 in Beijing.
    ("4pm CET", UTC, "2026-11-26 15:00"),
    ("10am EST", UTC, "2026-11-26 15:00"),
    ("9:00 PST", UTC, "2026-11-26 17:00"),
    ("北京时间下午三点", UTC, "2026-11-27 07:00"),  # Beijing's next 15:00 is on Nov 27
    ("Monday 9am EST", UTC, "2026-11-30 14:00"),
    # --- not one certain deadline: None ---------------------------------------------------------------------
    ("sometime next week", SH, None),
    ("in a bit", SH, None),
    ("soon", SH, None),
    ("someday", SH, None),
    ("in a few days", SH, None),
    ("改天", SH, None),
    ("回头再说", SH, None),
    ("有空再说", SH, None),
    ("过几天", SH, None),
    ("尽早", SH, None),
    # --- alternatives and ranges: None ----------------------------------------------------------------------
    ("next Friday or Monday", SH, None),
    ("3 or 4pm", SH, None),
    ("3-4pm", SH, None),
    ("tomorrow or the day after", SH, None),
    ("明天或后天", SH, None),
    ("明后天", SH, None),  # tomorrow or the day after
    ("本周或下周", SH, None),
    ("周五下午三点或者四点", SH, None),
    ("3点到4点", SH, None),
    ("明天上午或下午", SH, None),
    # --- recurring, not a deadline: None --------------------------------------------------------------------
    ("every Friday", SH, None),
    ("每周五", SH, None),
    ("每天下午3点", SH, None),
    # --- unknown words around a date: None ------------------------------------------------------------------
    ("zebra tomorrow", SH, None),
    ("tomorrow zebra 3pm", SH, None),
    ("明天香蕉下午3点", SH, None),
    ("foo Friday", SH, None),
    ("周五 abc", SH, None),
    # --- impossible or contradictory clock times: None ------------------------------------------------------
    ("25:00", SH, None),
    ("9:75", SH, None),
    ("at 13pm", SH, None),
    ("下午15点", SH, None),  # 下午 with a 24-hour hour
    ("上午15点", SH, None),
    ("tomorrow yesterday", SH, None),
    # --- America/New_York -----------------------------------------------------------------------------------
    ("at 11pm", NY, "2026-11-26 23:00"),
    ("tomorrow at 10pm", NY, "2026-11-27 22:00"),
    ("at 1030", NY, "2026-11-27 10:30"),
    ("凌晨两点", NY, "2026-11-27 02:00"),
    ("晚上十一点半", NY, "2026-11-26 23:30"),
    ("the 3rd", NY, "2026-12-03 18:00"),
    ("下个月20号", NY, "2026-12-20 18:00"),
    ("Thursday the 3rd of December", NY, "2026-12-03 18:00"),
    ("this weekend", NY, "2026-11-27 18:00"),
    ("上周", NY, "2026-11-20 18:00"),
    ("last Friday of December", NY, "2026-12-25 18:00"),
    ("in 90 minutes", NY, "2026-11-26 15:30"),
    ("半天后", NY, "2026-11-27 02:00"),
    ("2月30日", NY, None),
    ("Friday the 3rd", NY, None),
    # --- UTC ------------------------------------------------------------------------------------------------
    ("at 12am", UTC, "2026-11-27 00:00"),
    ("下午三点四十五", UTC, "2026-11-26 15:45"),
    ("前天", UTC, "2026-11-24 18:00"),
    ("on the first", UTC, "2026-12-01 18:00"),
    ("next weekend", UTC, "2026-12-04 18:00"),
    ("下月中", UTC, "2026-12-15 18:00"),
    ("一刻钟后", UTC, "2026-11-26 14:15"),
    ("in two and a half days", UTC, "2026-11-29 02:00"),
    ("3 Fridays from now", UTC, "2026-12-11 18:00"),
    ("soon", UTC, None),
    ("周日，二月十号", UTC, None),
]
