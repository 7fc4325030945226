"""The flood guard's buckets: per sender, weighted, warned once per burst, forgotten when idle."""

from __future__ import annotations

from core.flood import FloodGuard, FloodPolicy, Verdict, command_cost

POLICY = FloodPolicy(burst=5, refill_seconds=2.0, expensive_cost=4)
START = 1_000_000.0


def verdicts(guard: FloodGuard, key: object, count: int, now: float, cost: float = 1.0):
    return [guard.check(key, now, cost) for _ in range(count)]


def test_a_burst_passes_then_one_warning_then_silence():
    guard = FloodGuard(POLICY)
    seen = verdicts(guard, (1, 1), 9, START)
    assert seen == [Verdict.ALLOW] * 5 + [Verdict.WARN] + [Verdict.DROP] * 3


def test_a_sender_still_flooding_as_tokens_come_back_is_not_warned_again():
    guard = FloodGuard(POLICY)
    verdicts(guard, (1, 1), 6, START)
    now = START
    seen = []
    for _ in range(10):  # one command every second: one token back every two
        now += 1.0
        seen.append(guard.check((1, 1), now))
    assert Verdict.WARN not in seen
    assert seen.count(Verdict.ALLOW) == 5


def test_a_new_burst_begins_only_once_the_bucket_is_full_again():
    guard = FloodGuard(POLICY)
    verdicts(guard, (1, 1), 6, START)
    # Half refilled: some pass, but this is the same burst, so no second warning.
    assert verdicts(guard, (1, 1), 4, START + 5.0) == [Verdict.ALLOW] * 2 + [Verdict.DROP] * 2
    later = START + 5.0 + POLICY.full_after
    assert verdicts(guard, (1, 1), 6, later) == [Verdict.ALLOW] * 5 + [Verdict.WARN]


def test_each_sender_in_a_chat_has_their_own_bucket():
    guard = FloodGuard(POLICY)
    verdicts(guard, (-100, 1), 10, START)
    assert guard.check((-100, 2), START) is Verdict.ALLOW
    assert guard.check((-200, 1), START) is Verdict.ALLOW  # the flooder elsewhere
    assert guard.check((-100, 1), START) is Verdict.DROP


def test_expensive_commands_cost_more():
    guard = FloodGuard(POLICY)
    assert guard.check("k", START, 4) is Verdict.ALLOW
    assert guard.check("k", START, 4) is Verdict.WARN  # one token left: not enough for another
    assert guard.check("k", START, 1) is Verdict.ALLOW  # a cheap one still fits
    assert guard.check("k", START + 8.0, 4) is Verdict.ALLOW  # four tokens back


def test_a_cost_above_the_burst_can_still_pass_on_a_full_bucket():
    guard = FloodGuard(FloodPolicy(burst=3, refill_seconds=1.0, expensive_cost=10))
    assert guard.check("k", START, 10) is Verdict.ALLOW
    assert guard.check("k", START, 1) is Verdict.WARN


def test_which_updates_are_expensive():
    cost = POLICY.expensive_cost
    assert command_cost(POLICY, "/test المغرب", None) == cost
    assert command_cost(POLICY, "/TEST@rasd_bot المغرب", None) == cost
    assert command_cost(POLICY, "/addfeed https://x.example/feed", None) == cost
    assert command_cost(POLICY, None, "test:المغرب") == cost
    assert command_cost(POLICY, "/help", None) == 1
    assert command_cost(POLICY, "/testing", None) == 1
    assert command_cost(POLICY, "/", None) == 1
    assert command_cost(POLICY, "test المغرب", None) == 1
    assert command_cost(POLICY, None, None) == 1
    assert command_cost(POLICY, None, "kw:del:3") == 1


def test_idle_buckets_are_forgotten():
    policy = FloodPolicy(burst=5, refill_seconds=1000.0)  # full again after 5000 s
    guard = FloodGuard(policy)
    for user in range(1000):
        guard.check((-100, user), START + user)
    assert len(guard) == 1000
    guard.forget_idle(START + 499 + policy.full_after)  # the first 500 were idle long enough
    assert len(guard) == 500
    guard.forget_idle(START + 999 + policy.full_after)
    assert len(guard) == 0


def test_a_forgotten_flooder_starts_afresh_exactly_as_if_remembered():
    remembered, forgetful = FloodGuard(POLICY), FloodGuard(POLICY)
    verdicts(remembered, "k", 7, START)
    verdicts(forgetful, "k", 7, START)
    later = START + POLICY.full_after
    forgetful.check("other", later)  # checking any key forgets the idle ones
    assert len(forgetful) == 1
    assert verdicts(forgetful, "k", 7, later) == verdicts(remembered, "k", 7, later)


def test_memory_is_bounded_even_when_nobody_is_idle():
    guard = FloodGuard(FloodPolicy(burst=5, refill_seconds=2.0, max_buckets=100))
    for user in range(1000):
        guard.check(user, START)
    assert len(guard) == 100
    assert guard.check(999, START) is Verdict.ALLOW  # the most recent ones are kept


def test_the_default_guard_lets_a_person_send_one_command_a_second_for_ever():
    # Telegram lets the bot answer a private chat once a second: that pace is never a flood.
    guard = FloodGuard()
    seen = [guard.check((1, 1), START + second) for second in range(600)]
    assert seen == [Verdict.ALLOW] * 600


def test_the_default_guard_stops_two_commands_a_second_after_the_burst():
    guard = FloodGuard()
    seen = [guard.check((1, 1), START + tick / 2) for tick in range(120)]
    allowed = seen.count(Verdict.ALLOW)
    assert FloodPolicy().burst < allowed < 120
    assert seen.count(Verdict.WARN) == 1
