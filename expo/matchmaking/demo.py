"""Demo data of matchmaking: meetings (meeting_demo), then recommendations computed over everything else."""


def contribute(world) -> None:
    from . import meeting_demo, recs_demo

    meeting_demo.contribute(world)
    recs_demo.contribute(world)
