"""Exercise ids that moved when chapters were renumbered, so old saved notebooks still check.

The depth chapter was inserted as chapter 6 and the speedups chapter moved
from 6 to 7 (README, "What moved"). A speedups notebook saved before the move
still says ``check("6.2", build_tiled_matmul)``, while "6.2" now belongs to the
depth chapter. The two are told apart by the function handed to ``check``:
each old speedups exercise asked for a function of a fixed name, defined in
its notebook's exercise cell, and no depth-chapter exercise uses those names.
So ``check("6.2", build_tiled_matmul)`` runs check 7.2 (with a note saying
so), and ``check("6.2", <anything else>)`` runs the depth chapter's 6.2.
"""

# old id -> (current id, names of the functions the old exercise asked for)
MOVED = {
    "6.1": ("7.1", ("build_relu_kernel",)),
    "6.2": ("7.2", ("build_tiled_matmul",)),
    "6.3": ("7.3", ("speedup",)),
}


def current_id(exercise_id, answer):
    """(the id to check, a note for the learner or None) for ``check(exercise_id, answer)``."""
    moved = MOVED.get(exercise_id)
    if moved is None or getattr(answer, "__name__", None) not in moved[1]:
        return exercise_id, None
    new_id = moved[0]
    return new_id, (f"note: exercise {exercise_id} ({answer.__name__}) of the speedups chapter is now "
                    f"exercise {new_id}: the speedups chapter became chapter {new_id.split('.')[0]}. "
                    f"Checked as {new_id}.")
