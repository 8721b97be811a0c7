"""Routes of the programme (cadres, assignments, work, problems, inspections), mixed into the
gateway. The assignment service decides who may act on which record: these pass the caller."""
from __future__ import annotations

from services.common.contract.http_bodies import (
    Assignment,
    AssignmentIn,
    Cadre,
    CadreIn,
    EndAssignment,
    Inspection,
    InspectionIn,
    InspectionReport,
    ProblemIn,
    ResolveProblem,
    VillageProblem,
    WorkLog,
    WorkLogIn,
    WorkSummary,
    page_of,
)
from services.gateway import access
from services.gateway.http import PAGING, Call, replayable, route


class ProgrammeRoutes:
    # --- cadres ------------------------------------------------------------------------------

    @route("POST", "/v1/cadres", "Register a cadre", allow=access.anyone,
           body=CadreIn, response=Cadre, status=201, tag="cadres", idempotent=True)
    def register_cadre(self, call: Call):
        return replayable(self.assignment.register_cadre(call.actor, call.raw_body,
                                                         call.idempotency_key), "cadre")

    @route("GET", "/v1/cadres", "List a department's cadres", allow=access.anyone,
           response=page_of(Cadre), tag="cadres",
           query={"department": "department code (a department's key: its own)", **PAGING})
    def list_cadres(self, call: Call):
        return self.assignment.list_cadres(call.actor, call.query("department"),
                                           call.query("after"), call.query("limit"))

    @route("GET", "/v1/cadres/<cadre_id>", "Read a cadre", allow=access.anyone, response=Cadre,
           tag="cadres", errors=(404,))
    def get_cadre(self, call: Call, cadre_id: str):
        return self.assignment.get_cadre(call.actor, cadre_id)

    @route("GET", "/v1/cadres/<cadre_id>/assignments", "A cadre's assignments, newest first",
           allow=access.anyone, response=page_of(Assignment), tag="assignments", query=PAGING,
           errors=(404,))
    def cadre_assignments(self, call: Call, cadre_id: str):
        return self.assignment.cadre_assignments(call.actor, cadre_id, call.query("after"),
                                                 call.query("limit"))

    @route("GET", "/v1/cadres/<cadre_id>/work-summary", "A cadre's work summary",
           allow=access.anyone, response=WorkSummary, tag="work", errors=(404,))
    def cadre_work_summary(self, call: Call, cadre_id: str):
        return self.assignment.cadre_work_summary(call.actor, cadre_id)

    # --- assignments -------------------------------------------------------------------------

    @route("POST", "/v1/assignments", "Assign a cadre to a village", allow=access.anyone,
           body=AssignmentIn, response=Assignment, status=201, tag="assignments",
           idempotent=True, errors=(409,))
    def start_assignment(self, call: Call):
        return replayable(self.assignment.start_assignment(call.actor, call.raw_body,
                                                           call.idempotency_key), "assignment")

    @route("POST", "/v1/assignments/<assignment_id>/end", "End an assignment, keeping history",
           allow=access.anyone, body=EndAssignment, response=Assignment, tag="assignments",
           errors=(404, 409))
    def end_assignment(self, call: Call, assignment_id: str):
        return self.assignment.end_assignment(call.actor, assignment_id, call.raw_body)

    @route("GET", "/v1/villages/<code>/team", "A village's active assignments",
           allow=access.anyone, response=page_of(Assignment), tag="assignments", errors=(404,))
    def village_team(self, call: Call, code: str):
        return self.assignment.village_team(call.actor, code)

    # --- work --------------------------------------------------------------------------------

    @route("POST", "/v1/assignments/<assignment_id>/logs", "Log a day's work",
           allow=access.anyone, body=WorkLogIn, response=WorkLog, status=201, tag="work",
           idempotent=True, errors=(404, 409))
    def log_work(self, call: Call, assignment_id: str):
        return replayable(self.assignment.log_work(call.actor, assignment_id, call.raw_body,
                                                   call.idempotency_key), "log")

    @route("GET", "/v1/villages/<code>/work-summary", "A village's work summary",
           allow=access.anyone, response=WorkSummary, tag="work", errors=(404,))
    def village_work_summary(self, call: Call, code: str):
        return self.assignment.village_work_summary(call.actor, code)

    # --- problems ----------------------------------------------------------------------------

    @route("POST", "/v1/villages/<code>/problems", "Report a problem (问题清单)",
           allow=access.anyone, body=ProblemIn, response=VillageProblem, status=201,
           tag="problems", idempotent=True, errors=(404,))
    def report_problem(self, call: Call, code: str):
        return replayable(self.assignment.report_problem(call.actor, code, call.raw_body,
                                                         call.idempotency_key), "problem")

    @route("GET", "/v1/villages/<code>/problems", "A village's problems", allow=access.anyone,
           response=page_of(VillageProblem), tag="problems",
           query={"status": "open or resolved", **PAGING}, errors=(404,))
    def list_problems(self, call: Call, code: str):
        return self.assignment.list_problems(call.actor, code, call.query("status"),
                                             call.query("after"), call.query("limit"))

    @route("POST", "/v1/problems/<problem_id>/resolve", "Resolve a problem", allow=access.anyone,
           body=ResolveProblem, response=VillageProblem, tag="problems", errors=(404, 409))
    def resolve_problem(self, call: Call, problem_id: str):
        return self.assignment.resolve_problem(call.actor, problem_id, call.raw_body)

    # --- inspections (暗访暗查) -----------------------------------------------------------------

    @route("POST", "/v1/inspections", "Plan an unannounced inspection", allow=access.anyone,
           body=InspectionIn, response=Inspection, status=201, tag="inspections",
           metered=False, idempotent=True)
    def plan_inspection(self, call: Call):
        return replayable(self.assignment.plan_inspection(call.actor, call.raw_body,
                                                          call.idempotency_key), "inspection")

    @route("POST", "/v1/inspections/<inspection_id>/report", "File an inspection's report",
           allow=access.anyone, body=InspectionReport, response=Inspection, tag="inspections",
           metered=False, errors=(404, 409))
    def file_report(self, call: Call, inspection_id: str):
        return self.assignment.file_report(call.actor, inspection_id, call.raw_body)

    @route("GET", "/v1/inspections", "List inspections", allow=access.anyone,
           response=page_of(Inspection), tag="inspections", metered=False,
           query={"village": "only this village's", **PAGING})
    def list_inspections(self, call: Call):
        return self.assignment.list_inspections(call.actor, call.query("village"),
                                                call.query("after"), call.query("limit"))

    @route("GET", "/v1/inspections/<inspection_id>", "Read an inspection", allow=access.anyone,
           response=Inspection, tag="inspections", metered=False, errors=(404,))
    def get_inspection(self, call: Call, inspection_id: str):
        return self.assignment.get_inspection(call.actor, inspection_id)
