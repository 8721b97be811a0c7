"""Titles of notifications, in Chinese and English, from one template per event type.

Templates name the village, department, cadre and quantities. They never receive a phone
number: events do not carry one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """Display names looked up in the notifications service's directory projection."""

    village: str
    department: str | None = None


@dataclass(frozen=True)
class Template:
    zh: Callable[[dict, Names], str]
    en: Callable[[dict, Names], str]


def _quantity(data: dict) -> str:
    return f"{data['quantity']} {data['unit']}"


ROLE_ZH = {"leader": "队长", "first_secretary": "第一书记", "member": "队员"}
ROLE_EN = {"leader": "team leader", "first_secretary": "first secretary", "member": "member"}
TASK_ZH = {"plan": "发展规划", "economy": "经济发展", "dispute": "矛盾纠纷",
           "organization": "组织建设"}
TASK_EN = {"plan": "planning", "economy": "economy", "dispute": "dispute",
           "organization": "organisation"}
END_ZH = {"completed": "期满结束", "recalled": "被召回", "replaced": "被替换"}
END_EN = {"completed": "completed", "recalled": "was recalled", "replaced": "was replaced"}

TEMPLATES: dict[str, Template] = {
    "assignment.assignment_started": Template(
        zh=lambda d, n: f"{n.department}{d['cadre_name']}到{n.village}任{ROLE_ZH[d['role']]}"
                        f"（{d['starts_on']}至{d['ends_on']}）",
        en=lambda d, n: f"{d['cadre_name']} of {n.department} starts as {ROLE_EN[d['role']]} "
                        f"in {n.village} ({d['starts_on']} to {d['ends_on']})",
    ),
    "assignment.assignment_ended": Template(
        zh=lambda d, n: f"{d['cadre_name']}在{n.village}的{ROLE_ZH[d['role']]}挂帮"
                        f"{END_ZH[d['reason']]}",
        en=lambda d, n: f"{d['cadre_name']}'s assignment as {ROLE_EN[d['role']]} in "
                        f"{n.village} {END_EN[d['reason']]}",
    ),
    "assignment.village_leaderless": Template(
        zh=lambda d, n: f"{n.village}目前没有驻村工作队队长，请尽快安排",
        en=lambda d, n: f"{n.village} has no team leader now; one needs to be assigned",
    ),
    "assignment.problem_reported": Template(
        zh=lambda d, n: f"{n.village}新增问题（{TASK_ZH[d['category']]}）：{d['title']}",
        en=lambda d, n: f"New {TASK_EN[d['category']]} problem in {n.village}: {d['title']}",
    ),
    "assignment.problem_resolved": Template(
        zh=lambda d, n: f"{n.village}问题已解决：{d['title']}",
        en=lambda d, n: f"Problem resolved in {n.village}: {d['title']}",
    ),
    "assignment.inspection_filed": Template(
        zh=lambda d, n: f"{n.village}暗访检查报告已提交，得分{d['score']}，"
                        f"缺勤干部{len(d['cadres_absent'])}人",
        en=lambda d, n: f"Unannounced inspection of {n.village} filed: score {d['score']}, "
                        f"{len(d['cadres_absent'])} cadre(s) absent",
    ),
    "resources.commitment_delivered": Template(
        zh=lambda d, n: f"{n.department}已向{n.village}送达 {d['kind']} "
                        f"{d['delivered_quantity']} {d['unit']}，请签收",
        en=lambda d, n: f"{n.department} delivered {d['delivered_quantity']} {d['unit']} of "
                        f"{d['kind']} to {n.village}; please confirm receipt",
    ),
    "resources.commitment_confirmed": Template(
        zh=lambda d, n: f"{n.village}已签收{n.department}的 {d['kind']} "
                        f"{d['delivered_quantity']} {d['unit']}",
        en=lambda d, n: f"{n.village} confirmed receipt of {d['delivered_quantity']} "
                        f"{d['unit']} of {d['kind']} from {n.department}",
    ),
    "resources.commitment_cancelled": Template(
        zh=lambda d, n: f"{n.department}取消了向{n.village}提供的 {d['kind']} {_quantity(d)}："
                        f"{d['cancel_reason']}",
        en=lambda d, n: f"{n.department} cancelled {_quantity(d)} of {d['kind']} for "
                        f"{n.village}: {d['cancel_reason']}",
    ),
    "resources.need_raised": Template(
        zh=lambda d, n: f"{n.village}提出需求：{d['kind']} {d['requested']} {d['unit']}"
                        f"（{d['purpose']}）",
        en=lambda d, n: f"{n.village} needs {d['requested']} {d['unit']} of {d['kind']} "
                        f"({d['purpose']})",
    ),
    "resources.commitment_created": Template(
        zh=lambda d, n: f"{n.department}承诺向{n.village}提供 {d['kind']} {_quantity(d)}",
        en=lambda d, n: f"{n.department} committed {_quantity(d)} of {d['kind']} to {n.village}",
    ),
}


def render(event_type: str, data: dict, names: Names) -> tuple[str, str]:
    """(title_zh, title_en) for an event; a KeyError for a type no template covers."""
    template = TEMPLATES[event_type]
    return template.zh(data, names), template.en(data, names)
