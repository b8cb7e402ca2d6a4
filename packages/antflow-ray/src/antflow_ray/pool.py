"""`ActorPool`: the Ray actors of one stage, and the worker each of them serves.

A stage of ``workers`` workers and ``actors`` actors binds worker ``i`` to actor
``i % actors``; each actor's ``max_concurrency`` is the number of workers bound to it,
so an actor never queues a call (except an inline stage of plain functions: it runs on
`InlineStageActor`, one call at a time, its next calls queued by Ray). The pool creates
its actors at ``start()``, waits for them to be constructed (a task module the cluster
cannot import fails here, before any item), replaces an actor that died (once, however
many workers saw it die), and kills them all at ``stop()``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from antflow_core.model import StagePlan

from antflow_ray.actor import ActorRef, runs_inline
from antflow_ray.connection import remote_class
from antflow_ray.errors import ActorStartError
from antflow_ray.options import RayStageOptions

__all__ = ["ActorPool"]

logger = logging.getLogger("antflow")


class ActorPool:
    """The actors of one stage.

    Args:
        plan: The stage, compiled.
        options: How many actors and what each reserves.
    """

    def __init__(self, plan: StagePlan, options: RayStageOptions) -> None:
        self.plan = plan
        self.options = options
        self.size = options.actors
        workers = plan.stage.workers
        # Actor k serves workers k, k + size, k + 2 * size, ...
        self.slots = tuple(len(range(k, workers, self.size)) for k in range(self.size))
        self.actors: list[ActorRef] = []
        self.replaced = 0
        stage = plan.stage
        self.inline = runs_inline(stage.tasks, stage.skip_if, options.sync_tasks == "inline")

    def _create(self, index: int) -> ActorRef:
        stage = self.plan.stage
        cls: Any = remote_class(self.inline)
        concurrency = 1 if self.inline else self.slots[index]
        handle = cls.options(**self.options.actor_options(concurrency)).remote(
            stage.name,
            tuple(stage.tasks),
            stage.unpack_args,
            stage.task_timeout,
            stage.skip_if,
            self.slots[index] if self.options.sync_tasks == "threads" else 0,
        )
        return ActorRef(handle)

    def start(self) -> None:
        """Create the actors (Ray constructs them in the background)."""
        self.actors = [self._create(k) for k in range(self.size)]

    async def wait_ready(self) -> None:
        """Wait until every actor is constructed.

        Raises:
            ActorStartError: If one could not be; the cause is chained.
        """
        replies = [actor.ready() for actor in self.actors]
        results = await asyncio.gather(*replies, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise ActorStartError(
                    f"the Ray actors of stage {self.plan.name!r} could not be created: "
                    f"{type(result).__name__}: {result}. Check that every node can import "
                    "the modules of the stage's tasks (see RayStageOptions.runtime_env) and "
                    "that some node has the resources the stage asks for"
                ) from result

    def actor_for(self, worker_id: int) -> ActorRef:
        """The actor that serves worker ``worker_id``."""
        return self.actors[worker_id % self.size]

    def replace(self, dead: ActorRef) -> None:
        """Replace ``dead`` with a new actor, unless another worker already did."""
        for index, actor in enumerate(self.actors):
            if actor is dead:
                logger.warning(
                    "antflow: an actor of stage %r died; starting a new one", self.plan.name
                )
                self.replaced += 1
                self._kill(dead)
                self.actors[index] = self._create(index)
                return

    @staticmethod
    def _kill(actor: ActorRef) -> None:
        try:
            actor.kill()
        except Exception:  # already gone, or Ray is shutting down: nothing to release
            logger.debug("antflow: could not kill an actor", exc_info=True)

    def stop(self) -> None:
        """Kill every actor; calls still running on them fail."""
        actors, self.actors = self.actors, []
        for actor in actors:
            self._kill(actor)
