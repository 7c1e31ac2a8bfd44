"""How results are shown: the terminal table, a student's feedback file, the grade sheets."""
import csv
import json

MARKS = {"passed": "\u2714", "not attempted": "\u2013"}


def points(x):
    return f"{x:g}"


def feedback_line(exercise, limit=240):
    """One line: a mark, the status where the message does not already say it, the message."""
    text = exercise.feedback
    if exercise.status == "not attempted":
        text = f"not attempted ({text})"
    elif exercise.status in ("failed", "error") and not text.lower().startswith(exercise.status):
        text = f"{exercise.status}: {text}"
    text = f"{MARKS.get(exercise.status, chr(0x2718))} {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def table(result, title=""):
    """The table ``nnlib-grade check`` prints: exercise, points earned/possible, feedback."""
    rows = [("Exercise", "Points", "Feedback")]
    rows += [(e.label, f"{points(e.points)}/{points(e.max_points)}", feedback_line(e))
             for e in result.exercises]
    rows.append(("Total", f"{points(result.total)}/{points(result.possible)}",
                 f"status: {result.status}, {result.seconds:.1f} s"))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [title] if title else []
    lines += [f"{r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]}" for r in rows]
    lines += [f"note: {note}" for note in result.notes]
    lines += [f"flag: {flag}" for flag in result.flags]
    return "\n".join(lines)


def feedback_markdown(student, result):
    """The feedback file of one student (Markdown)."""
    head = f"# Feedback for {student}: assignment {result.assignment}\n\n"
    if result.status in ("invalid", "error") and not result.exercises:
        return head + f"**Not graded:** {result.error}\n"
    lines = [head + f"**Total: {points(result.total)} / {points(result.possible)} points** "
             f"(status: {result.status})\n",
             "| Exercise | Points | Feedback |", "|---|---|---|"]
    lines += [f"| {e.label} | {points(e.points)}/{points(e.max_points)} | {_cell(feedback_line(e, 2000))} |"
              for e in result.exercises]
    if result.error:
        lines.append(f"\n**Grader:** {result.error}")
    if result.notes:
        lines.append("\n## Notes on your notebook\n")
        lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def write_csv(path, assignment, rows):
    """grades.csv: student, points per exercise, total, possible, status, message."""
    labels = [g.label for g in assignment.grading.values()]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *labels, "total", "possible", "status", "message", "flags"])
        for student, result in rows:
            by_id = {e["grade_id"]: e for e in result["exercises"]}
            scores = [points(by_id[g]["points"]) if g in by_id else "" for g in assignment.grading]
            writer.writerow([student, *scores, points(result["total"]), points(assignment.possible),
                             result["status"], result.get("error", ""), "; ".join(result.get("flags", []))])


def write_json(path, assignment, rows, seconds, seed=None, sandbox=""):
    """grades.json: the assignment's exercises, the grading seed, the sandbox, every student's full result."""
    data = {"assignment": assignment.name, "possible": assignment.possible,
            "exercises": [{"grade_id": g.grade_id, "label": g.label, "points": g.points}
                          for g in assignment.grading.values()],
            "seconds": round(seconds, 1), "seed": seed, "sandbox": sandbox, "students": dict(rows)}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
