"""A call for a group: one mechanism for every flow that asks people to join (DESIGN.md §3).

The asked-advice call to the members, the unasked own track's call and the Midden-Drenthe call
to the Platform Inclusie are each one `Call`: an invitation mail with a personal yes/no link to
everyone of a role, `sign_up` / `withdraw_signup` answered by that link, a sign-up term
(`signup_closes`, closed by the worker with `close_signup`) with one reminder to those who have
not answered, and on closing a group of the first `group_max` sign-ups with the later ones as
reserves. `replace_member` takes one person out of the group and promotes the first reserve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.dsl import (
    Context,
    Deadline,
    Guard,
    Mail,
    Reminder,
    Transition,
    mail,
    on,
    person,
    to,
)

ANSWER_EVENTS = ("sign_up", "withdraw_signup")


@dataclass(frozen=True)
class Call:
    """A call to the people of `role` to join a group; the data lists are named by `prefix`."""

    role: str
    invitation: str  # template of the invitation mail
    prefix: str = ""
    window: str = "signup_closes"  # the deadline of the sign-up term
    minimum: bool = True  # fewer sign-ups than the organisation's group_min: understaffed
    once: bool = False  # the group, once formed, stays: coming back does not call again

    @property
    def signups(self) -> str:
        return f"{self.prefix}signups"

    @property
    def group(self) -> str:
        return f"{self.prefix}group"

    @property
    def reserves(self) -> str:
        return f"{self.prefix}reserves"

    # --- what the call does to the data (pure) -----------------------------------------------

    def listed(self, ctx: Context) -> list[str]:
        return list(ctx.data.get(self.signups, []))

    def _sign_up(self, ctx: Context) -> dict[str, Any]:
        return {**ctx.data, self.signups: [*self.listed(ctx), ctx.actor.email]}

    def _withdraw(self, ctx: Context) -> dict[str, Any]:
        return {**ctx.data, self.signups: [e for e in self.listed(ctx) if e != ctx.actor.email]}

    def form_group(self, ctx: Context) -> dict[str, Any]:
        signups, size = self.listed(ctx), ctx.org.group_max
        return {**ctx.data, self.group: signups[:size], self.reserves: signups[size:]}

    def without(self, data: Mapping[str, Any], leaving: str) -> tuple[dict[str, Any], str | None]:
        """`leaving` out of the group and the reserves; when a place in the group came free,
        the first reserve takes it. Returns the new data and who was promoted (or None)."""
        group = list(data.get(self.group, []))
        reserves = [e for e in data.get(self.reserves, []) if e != leaving]
        if leaving not in group:
            return {**data, self.reserves: reserves} if self.reserves in data else dict(data), None
        promoted = reserves.pop(0) if reserves else None
        group = [e for e in group if e != leaving] + ([promoted] if promoted else [])
        return {**data, self.group: group, self.reserves: reserves}, promoted

    def _replace(self, ctx: Context) -> dict[str, Any]:
        leaving = ctx.payload["member"]
        data, promoted = self.without(ctx.data, leaving)
        data = {**data, "left_group": leaving, "joined_group": promoted}
        if data.get("contact_person") == leaving:
            data.pop("contact_person")
        if promoted is None:
            data.pop("joined_group")
        return data

    # --- guards ----------------------------------------------------------------------------

    def _open(self, ctx: Context) -> bool:
        return self.window in ctx.deadlines

    def _is_new(self, ctx: Context) -> bool:
        return ctx.actor.email not in self.listed(ctx)

    def guards(self) -> dict[str, Guard]:
        closed = "De aanmelding is gesloten."
        return {
            "room": Guard("new_signup_with_room", lambda c: self._open(c) and self._is_new(c)
                          and len(self.listed(c)) < c.org.group_max,
                          "Je bent al aangemeld.", explain=lambda c: "" if self._open(c) else closed),
            "reserve": Guard("new_signup_as_reserve", lambda c: self._open(c) and self._is_new(c)
                             and len(self.listed(c)) >= c.org.group_max,
                             "Je bent al aangemeld.",
                             explain=lambda c: "" if self._open(c) else closed),
            "signed_up": Guard("signed_up", lambda c: self._open(c) and not self._is_new(c),
                               "Je was niet aangemeld."),
            "enough": Guard("enough_signups",
                            lambda c: not self.minimum or len(self.listed(c)) >= c.org.group_min,
                            "Er hebben zich te weinig mensen aangemeld.",
                            explain=lambda c: f"Er hebben zich te weinig {c.org.words.members} "
                                              f"aangemeld ({c.org.words.count(len(self.listed(c)))}"
                                              f", minstens {c.org.group_min} nodig)."),
            "in_group": Guard("member_in_group",
                              lambda c: c.payload.get("member") in c.data.get(self.group, []),
                              "Die persoon zit niet in de groep.",
                              explain=lambda c: f"Die persoon zit niet in de {c.org.words.group}."),
        }

    # --- the pieces a flow puts in its states ------------------------------------------------

    def invite(self) -> Mail:
        return mail(self.invitation, to(self.role), answer_link=True)

    def answers(self) -> tuple[Transition, ...]:
        """sign_up (a place in the group, or a place as reserve) and withdraw_signup."""
        g = self.guards()
        by = (self.role,)
        return (
            on("sign_up", by=by, action=self._sign_up, label="aanmelden")
            .stay(when=g["room"], mails=(mail("call/signup_confirmed", to(actor=True)),)),
            on("sign_up", by=by, action=self._sign_up, label="aanmelden")
            .stay(when=g["reserve"], mails=(mail("call/signup_reserve", to(actor=True)),)),
            on("withdraw_signup", by=by, action=self._withdraw, label="afmelden")
            .stay(when=g["signed_up"], mails=(mail("call/signup_withdrawn", to(actor=True)),)),
        )

    def closing(self, by: tuple[str, ...], dest: str | None, *, short: str | None = None,
                mails: tuple[Mail, ...] = ()) -> tuple[Transition, ...]:
        """close_signup: the group forms and goes to `dest` (None: stays); with too few
        sign-ups to `short` when the call has a minimum."""
        reserve = (self.reserve_mail(),)
        close = on("close_signup", by=by, action=self.form_group, label="aanmelding sluiten",
                   ends=(self.window,))
        enough = close.to(dest, when=self.guards()["enough"], mails=mails + reserve) if dest \
            else close.stay(when=self.guards()["enough"], mails=mails + reserve)
        if short is None:
            return (enough,)
        return (enough, close.to(short))

    def reserve_mail(self) -> Mail:
        return mail("call/reserve_list", to(lists=(self.reserves,)),
                    when=lambda c: bool(c.data.get(self.reserves)))

    def replace_member(self, by: tuple[str, ...]) -> Transition:
        """Take one person out of the group; the first reserve takes the place. Both are told."""
        return on("replace_member", by=by, fields=(person("member", "lid dat de groep verlaat"),),
                  action=self._replace, label="groepslid vervangen").stay(
            when=self.guards()["in_group"],
            mails=(mail("call/left_group", to(fields=("left_group",))),
                   mail("call/joined_group", to(fields=("joined_group",)),
                        when=lambda c: bool(c.data.get("joined_group")))))

    def extension_mail(self) -> Mail:
        """When the sign-up term is extended, everyone called hears the new date, with a link
        that works until then."""
        return mail("call/signup_extended", to(self.role), answer_link=True,
                    when=lambda c: c.payload.get("deadline") == self.window)

    def reminder(self) -> Reminder:
        return Reminder(name="call_reminder", before="2wd",
                        mail=mail("call/reminder", to(self.role), answer_link=True),
                        skip_lists=(self.signups,), skip_events=ANSWER_EVENTS)

    def term(self, guards: tuple[str, ...]) -> Deadline:
        """The sign-up term: the organisation's `signup_window`, closed by the worker."""
        return Deadline(self.window, "aanmeldtermijn", guards, org_term="signup_window",
                        base_label="de oproep", on_expiry="close_signup",
                        reminders=(self.reminder(),), unless=self.group if self.once else None)


# --- someone leaves the organisation ------------------------------------------------------


@dataclass(frozen=True)
class Leaver:
    """One person taken out of a trajectory: the data lists they were in, and whether they
    were its contact person."""

    email: str
    lists: tuple[str, ...]
    was_contact: bool


@dataclass(frozen=True)
class Departure:
    """What taking people out of a trajectory's data did (pure)."""

    data: dict[str, Any]
    left: tuple[Leaver, ...] = ()  # only those the trajectory named
    promoted: tuple[str, ...] = ()  # reserves who took a place that came free
    short: tuple[str, ...] = ()  # call groups now smaller than the organisation's minimum

    @property
    def changed(self) -> bool:
        return bool(self.left)


def depart(calls: Sequence[Call], data: Mapping[str, Any], leaving: Sequence[str],
           group_min: int) -> Departure:
    """`leaving` out of every group and list of a trajectory (each call promotes its first
    reserve into a freed place, as `replace_member` does), and no longer its contact person."""
    new, left, promoted = dict(data), [], []
    for email in leaving:
        lists = tuple(k for k, v in new.items() if isinstance(v, list) and email in v)
        was_contact = new.get("contact_person") == email
        if not lists and not was_contact:
            continue
        for call in calls:
            new, joined = call.without(new, email)
            promoted += [joined] if joined else []
        new = {k: [e for e in v if e != email] if k in lists else v for k, v in new.items()}
        if was_contact:
            new.pop("contact_person")
        left.append(Leaver(email, lists, was_contact))
    touched = {k for leaver in left for k in leaver.lists}
    short = tuple(c.group for c in calls
                  if c.group in touched and len(new.get(c.group, [])) < group_min)
    return Departure(new, tuple(left), tuple(p for p in promoted if p not in leaving), short)
