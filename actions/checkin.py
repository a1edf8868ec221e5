"""The concern check-in after YES to a chat: one overall 0-10 question, which areas, then a 0-10
score for each chosen area. Every answer is stored as it comes (with the text that gave it), so a
patient who stops half way keeps what they said. Unreadable answers are asked again once, with an
example, and then left: the check-in never loops.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import Context, conversation_context
from actions.review import review_instead_of_reasking
from bot import records
from bot.checkin.replies import AREAS, parse_areas, parse_score

MAX_REASKS = 1  # per question


def _reask_message(feedback: Optional[str], first: str) -> str:
    """The question the first time; after a vague answer ("really bad") ask for a number, after an
    unreadable one say so and give an example."""
    return {"vague": "checkin_number_please", "unclear": "checkin_number_unclear"}.get(feedback or "", first)


class ActionAskConcernOverall(Action):
    def name(self) -> Text:
        return "action_ask_concern_overall"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with conversation_context(tracker) as ctx:
            feedback = tracker.get_slot("checkin_feedback")
            if feedback != "unclear" or not review_instead_of_reasking(dispatcher, tracker, ctx, "worry score"):
                dispatcher.utter_message(text=ctx.say(_reask_message(feedback, "checkin_overall")))
        return [SlotSet("checkin_feedback", None)]


class ActionAskConcernAreas(Action):
    def name(self) -> Text:
        return "action_ask_concern_areas"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        unclear = tracker.get_slot("checkin_feedback") == "unclear"
        with conversation_context(tracker) as ctx:
            if not unclear or not review_instead_of_reasking(dispatcher, tracker, ctx, "areas of worry"):
                dispatcher.utter_message(text=ctx.say("checkin_areas_unclear" if unclear else "checkin_areas"))
        return [SlotSet("checkin_feedback", None)]


class ActionAskConcernAreaScore(Action):
    """Asks for the score of the first area still pending."""

    def name(self) -> Text:
        return "action_ask_concern_area_score"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        pending = tracker.get_slot("concern_pending") or []
        area = AREAS.get(pending[0], "") if pending else ""
        with conversation_context(tracker) as ctx:
            feedback = tracker.get_slot("checkin_feedback")
            if feedback != "unclear" or not review_instead_of_reasking(dispatcher, tracker, ctx, "area score"):
                dispatcher.utter_message(text=ctx.say(_reask_message(feedback, "checkin_area_score"), area=area))
        return [SlotSet("checkin_feedback", None)]


def _done_from(question: str) -> Dict[Text, Any]:
    """Slot values that end the check-in from `question` on (skipped questions stay unrecorded)."""
    values: Dict[Text, Any] = {"concern_area_score": "done", "concern_pending": [], "checkin_retry": 0.0}
    if question == "overall":
        values.update(concern_overall="skipped", concern_areas="skipped")
    elif question == "areas":
        values.update(concern_areas="skipped")
    return values


class ValidateConcernForm(FormValidationAction):
    """Reads each answer with the parsers in bot/checkin/replies.py and stores it at once."""

    def name(self) -> Text:
        return "validate_concern_form"

    @staticmethod
    def _reask_or_give_up(ctx: Context, tracker: Tracker, slot: str, question: str, kind: str,
                          value_when_given_up: Any) -> Dict[Text, Any]:
        retry = int(tracker.get_slot("checkin_retry") or 0)
        if retry < MAX_REASKS:
            return {
                slot: None,
                "checkin_retry": float(retry + 1),
                "checkin_feedback": "vague" if kind == "vague" else "unclear",
            }
        records.record_concern(
            ctx.session, ctx.conversation, question, status="unclear", inbound_message_id=ctx.inbound_id
        )
        return {slot: value_when_given_up, "checkin_retry": 0.0}

    @staticmethod
    def _store_area_scores(ctx: Context, by_area: Dict[str, int]) -> None:
        for area, score in by_area.items():
            records.record_concern(ctx.session, ctx.conversation, area, score=score, inbound_message_id=ctx.inbound_id)

    def validate_concern_overall(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {}  # cleared by an action, not an answer
        reply = parse_score(str(slot_value or ""))
        with conversation_context(tracker) as ctx:
            if reply.kind == "score":
                values: Dict[Text, Any] = {"checkin_retry": 0.0}
                if reply.score is not None:
                    records.record_concern(ctx.session, ctx.conversation, "overall", score=reply.score,
                                           inbound_message_id=ctx.inbound_id)
                    values["concern_overall"] = str(reply.score)
                else:
                    values["concern_overall"] = "by area"
                if reply.by_area:  # "pain 7 money 4" answers the areas and their scores at once
                    areas = [a for a in AREAS if a in reply.by_area]
                    records.record_concern(ctx.session, ctx.conversation, "areas", areas=areas,
                                           inbound_message_id=ctx.inbound_id)
                    self._store_area_scores(ctx, dict(reply.by_area))
                    values.update(concern_areas=",".join(areas), concern_area_score="done", concern_pending=[])
                return values
            if reply.kind == "skip":
                records.record_concern(ctx.session, ctx.conversation, "overall", status="skipped",
                                       inbound_message_id=ctx.inbound_id)
                return {"concern_overall": "skipped", "checkin_retry": 0.0}
            if reply.kind == "stop":
                records.record_concern(ctx.session, ctx.conversation, "overall", status="skipped",
                                       inbound_message_id=ctx.inbound_id)
                return _done_from("overall")
            return self._reask_or_give_up(ctx, tracker, "concern_overall", "overall", reply.kind, "unclear")

    def validate_concern_areas(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {}  # cleared by an action, not an answer
        reply = parse_areas(str(slot_value or ""))
        with conversation_context(tracker) as ctx:
            if reply.kind == "areas":
                records.record_concern(ctx.session, ctx.conversation, "areas", areas=list(reply.areas),
                                       inbound_message_id=ctx.inbound_id)
                self._store_area_scores(ctx, dict(reply.scores))
                pending = [a for a in reply.areas if a not in reply.scores]
                return {"concern_areas": ",".join(reply.areas), "concern_pending": pending,
                        "concern_area_score": None if pending else "done", "checkin_retry": 0.0}
            if reply.kind == "none":
                records.record_concern(
                    ctx.session, ctx.conversation, "areas", areas=[], inbound_message_id=ctx.inbound_id
                )
                return {
                    "concern_areas": "none",
                    "concern_area_score": "done",
                    "concern_pending": [],
                    "checkin_retry": 0.0,
                }
            if reply.kind in ("skip", "stop"):
                records.record_concern(ctx.session, ctx.conversation, "areas", status="skipped",
                                       inbound_message_id=ctx.inbound_id)
                return _done_from("areas")
            values = self._reask_or_give_up(ctx, tracker, "concern_areas", "areas", reply.kind, "unclear")
            if values["concern_areas"] == "unclear":
                values.update(concern_area_score="done", concern_pending=[])
            return values

    def validate_concern_area_score(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        if slot_value is None:
            return {}  # cleared by an action, not an answer
        pending = list(tracker.get_slot("concern_pending") or [])
        if not pending:
            return {"concern_area_score": "done"}
        area = pending[0]
        reply = parse_score(str(slot_value or ""))
        with conversation_context(tracker) as ctx:
            if reply.kind == "score":
                scores = dict(reply.by_area)
                if reply.score is not None and area not in scores:
                    scores[area] = reply.score
                if area in scores:
                    self._store_area_scores(ctx, scores)
                    pending = [a for a in pending if a not in scores]
                    return {"concern_area_score": None if pending else "done", "concern_pending": pending,
                            "checkin_retry": 0.0}
                # Scores for other areas only: keep them and ask about this one again.
                self._store_area_scores(ctx, scores)
                return {
                    "concern_area_score": None,
                    "concern_pending": [area] + [a for a in pending[1:] if a not in scores],
                }
            if reply.kind == "skip":
                records.record_concern(
                    ctx.session, ctx.conversation, area, status="skipped", inbound_message_id=ctx.inbound_id
                )
                pending = pending[1:]
                return {
                    "concern_area_score": None if pending else "done",
                    "concern_pending": pending,
                    "checkin_retry": 0.0,
                }
            if reply.kind == "stop":
                for rest in pending:
                    records.record_concern(ctx.session, ctx.conversation, rest, status="skipped",
                                           inbound_message_id=ctx.inbound_id)
                return _done_from("area")
            values = self._reask_or_give_up(ctx, tracker, "concern_area_score", area, reply.kind, None)
            if values["concern_area_score"] is None and "checkin_feedback" not in values:  # gave up on this area
                pending = pending[1:]
                values.update(concern_area_score=None if pending else "done", concern_pending=pending)
            return values
