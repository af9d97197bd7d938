import { and, desc, eq, gt, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../index.js";
import { agentPrograms, conversationRuns, conversations, nodes, turns } from "../schema.js";
import { batchStatement, builtOnce, columnPlaceholders, statementTemplate, type Write } from "../statements.js";

/** Conversations: who owns them, their list, titles, and the writes of a send. */

export type ConversationRow = typeof conversations.$inferSelect;
type NodeRow = typeof nodes.$inferSelect;
type RunRow = typeof conversationRuns.$inferSelect;
type TitleSource = ConversationRow["titleSource"];

const ownedQuery = builtOnce((db) =>
  db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, sql.placeholder("id")), eq(conversations.userId, sql.placeholder("userId"))))
    .prepare("owned_conversation"),
);

/** Statements that run when called, on the database or inside a transaction. */
export function conversationQueries(db: Db) {
  return {
    /** The conversation, if `userId` owns it. */
    async owned({ id, userId }: { id: string; userId: string }): Promise<ConversationRow | undefined> {
      const [row] = await ownedQuery(db).execute({ id, userId });
      return row;
    },

    async find(id: string): Promise<ConversationRow | undefined> {
      const [row] = await db.select().from(conversations).where(eq(conversations.id, id));
      return row;
    },

    /** The seq of the conversation's latest event (0 when it has none, or is gone). */
    async lastSeq(id: string): Promise<number> {
      const [row] = await db
        .select({ lastSeq: conversations.lastSeq })
        .from(conversations)
        .where(eq(conversations.id, id));
      return Number(row?.lastSeq ?? 0);
    },

    /** The name of the conversation's agent program. */
    async agentName(agentProgramId: string): Promise<string | undefined> {
      const [row] = await db
        .select({ name: agentPrograms.name })
        .from(agentPrograms)
        .where(eq(agentPrograms.id, agentProgramId));
      return row?.name;
    },

    /** An agent program of the account, not deleted, to start a conversation with. */
    async agentOf({ agentProgramId, accountId }: { agentProgramId: string; accountId: string }) {
      const [agent] = await db
        .select()
        .from(agentPrograms)
        .where(
          and(
            eq(agentPrograms.id, agentProgramId),
            eq(agentPrograms.accountId, accountId),
            isNull(agentPrograms.deletedAt),
          ),
        );
      return agent;
    },

    /**
     * A page of the person's conversations with a message, most recent activity first, each with its agent's
     * name: `limit` rows and one more when older ones remain. `before`: the (last message time, id) of the oldest
     * already shown; `titleContains`: a substring of the title, any case.
     */
    page({
      userId,
      archived,
      titleContains,
      before,
      limit,
    }: {
      userId: string;
      archived: boolean;
      titleContains?: string;
      before?: { lastMessageAt: Date; id?: string };
      limit: number;
    }): Promise<{ conversation: ConversationRow; agentName: string }[]> {
      const filters = [
        eq(conversations.userId, userId),
        archived ? isNotNull(conversations.archivedAt) : isNull(conversations.archivedAt),
        // A conversation without a message (made through the API, or before sends created them) is not listed.
        gt(conversations.lastTurnSeq, 0),
      ];
      if (titleContains) {
        filters.push(sql`${conversations.title} ILIKE ${`%${titleContains.replace(/[\\%_]/g, "\\$&")}%`}`);
      }
      if (before) {
        const at = before.lastMessageAt;
        filters.push(
          before.id
            ? or(
                lt(conversations.lastMessageAt, at),
                and(eq(conversations.lastMessageAt, at), lt(conversations.id, before.id)),
              )!
            : lt(conversations.lastMessageAt, at),
        );
      }
      return db
        .select({ conversation: conversations, agentName: agentPrograms.name })
        .from(conversations)
        .innerJoin(agentPrograms, eq(agentPrograms.id, conversations.agentProgramId))
        .where(and(...filters))
        .orderBy(desc(conversations.lastMessageAt), desc(conversations.id))
        .limit(limit + 1);
    },

    async setArchived(id: string, archived: boolean): Promise<ConversationRow | undefined> {
      const [row] = await db
        .update(conversations)
        .set({ archivedAt: archived ? new Date() : null, updatedAt: new Date() })
        .where(eq(conversations.id, id))
        .returning();
      return row;
    },

    /** The conversation and everything in it (foreign keys cascade). */
    async delete(id: string): Promise<void> {
      await db.delete(conversations).where(eq(conversations.id, id));
    },

    /** The title of the run's conversation, if the run succeeded and the title is still automatic. */
    async autoTitleAfter(runId: string): Promise<string | undefined> {
      const [subject] = await db
        .select({ title: conversations.title })
        .from(conversationRuns)
        .innerJoin(conversations, eq(conversations.id, conversationRuns.conversationId))
        .where(
          and(
            eq(conversationRuns.id, runId),
            eq(conversationRuns.state, "succeeded"),
            eq(conversations.titleSource, "auto"),
          ),
        );
      return subject?.title;
    },

    /** An automatic title is kept as generated: later replies no longer name the conversation. */
    async settleTitle(id: string): Promise<void> {
      await db
        .update(conversations)
        .set({ titleSource: "generated" })
        .where(and(eq(conversations.id, id), eq(conversations.titleSource, "auto")));
    },
  };
}

/** The statements of a send; `turn_seq` is read in SQL from the conversation the first one locks. */
const sendTemplates = builtOnce((db) => {
  const conversationId = sql.placeholder("conversationId");
  const turnSeq = sql`(SELECT ${conversations.lastTurnSeq} FROM ${conversations} WHERE ${conversations.id} = ${conversationId})`;
  return {
    lock: statementTemplate<{ conversationId: string; now: string; title: string | null }>(
      db
        .update(conversations)
        .set({
          lastTurnSeq: sql`${conversations.lastTurnSeq} + 1`,
          lastMessageAt: sql`${sql.placeholder("now")}::timestamptz`,
          title: sql`coalesce(${sql.placeholder("title")}::text, ${conversations.title})`,
        })
        .where(eq(conversations.id, conversationId))
        .returning({ id: conversations.id }),
      "some",
    ),
    noEarlierSend: statementTemplate<{ conversationId: string; clientMessageId: string }>(
      db
        .select({ id: nodes.id })
        .from(nodes)
        .where(
          and(
            eq(nodes.conversationId, conversationId),
            eq(nodes.kind, "user_message"),
            sql`${nodes.data}->>'clientMessageId' = ${sql.placeholder("clientMessageId")}`,
          ),
        ),
      "none",
    ),
    // A send whose run started before it was written (runs/unwritten-send.ts) holds only if its turn is the one the
    // run's prompt was built for and no other run of the conversation is queued or running.
    startsNow: statementTemplate<{ conversationId: string; turnSeq: number }>(
      sql`SELECT 1 FROM ${conversations} c WHERE c.id = ${conversationId}::uuid AND (
        c.last_turn_seq <> ${sql.placeholder("turnSeq")}::int
        OR EXISTS (SELECT 1 FROM ${conversationRuns} r WHERE r.conversation_id = c.id AND r.state IN ('queued', 'running'))
      )`,
      "none",
    ),
    turn: statementTemplate<{ id: string; conversationId: string; createdAt: Date }>(
      db
        .insert(turns)
        .values({ id: sql.placeholder("id"), conversationId, seq: turnSeq, createdAt: sql.placeholder("createdAt") }),
    ),
    message: statementTemplate<Omit<NodeRow, "turnSeq">>(
      db.insert(nodes).values({ ...columnPlaceholders(nodes), turnSeq }),
    ),
    run: statementTemplate<Omit<RunRow, "turnSeq">>(
      db.insert(conversationRuns).values({ ...columnPlaceholders(conversationRuns), turnSeq }),
    ),
  };
});

const retitleTemplates = builtOnce((db) => {
  type Values = { id: string; title: string; source: TitleSource; updatedAt: string };
  const retitle = (onlyAuto: boolean) =>
    statementTemplate<Values>(
      db
        .update(conversations)
        .set({
          title: sql`${sql.placeholder("title")}::text`,
          titleSource: sql`${sql.placeholder("source")}::text`,
          updatedAt: sql`${sql.placeholder("updatedAt")}::timestamptz`,
        })
        .where(
          and(
            eq(conversations.id, sql.placeholder("id")),
            onlyAuto ? eq(conversations.titleSource, "auto") : undefined,
          ),
        )
        .returning(),
      "some",
    );
  return { generated: retitle(true), any: retitle(false) };
});

/** Writes for a batch (Database.write). */
export function conversationWrites(db: Db) {
  return {
    insert: (row: ConversationRow): Write => batchStatement(db.insert(conversations).values(row)),

    /**
     * A send, as named writes in order: `lock` takes the conversation's row lock first, so concurrent sends get
     * consecutive turns (unmet: the conversation is gone), and moves its recency and, when given, its title;
     * `noEarlierSend` (with a clientMessageId; after the lock, so a concurrent send with the same id has committed
     * by then) is unmet when a send with that id was made already; then the turn, its message and its run.
     */
    send({
      message,
      run,
      at,
      title,
      clientMessageId,
      startsAtTurn,
    }: {
      message: Omit<NodeRow, "turnSeq">;
      run: Omit<RunRow, "turnSeq">;
      at: Date;
      title: string | null;
      clientMessageId?: string;
      /** The run is written running: unmet (`startsNow`) unless the turn gets this seq and no other run is unfinished. */
      startsAtTurn?: number;
    }) {
      const templates = sendTemplates(db);
      const conversationId = message.conversationId;
      return {
        lock: templates.lock({ conversationId, now: at.toISOString(), title }),
        noEarlierSend: clientMessageId ? templates.noEarlierSend({ conversationId, clientMessageId }) : undefined,
        startsNow:
          startsAtTurn === undefined ? undefined : templates.startsNow({ conversationId, turnSeq: startsAtTurn }),
        turn: templates.turn({ id: message.turnId, conversationId, createdAt: at }),
        message: templates.message(message),
        run: templates.run(run),
      } satisfies Record<string, Write | undefined>;
    },

    /**
     * A title, and where it came from; a generated title only replaces an automatic one (unmet otherwise, or when
     * the conversation is gone). Its rows: the conversation as it is now.
     */
    retitle({ id, title, source }: { id: string; title: string; source: TitleSource }): Write {
      const templates = retitleTemplates(db);
      const values = { id, title, source, updatedAt: new Date().toISOString() };
      return source === "generated" ? templates.generated(values) : templates.any(values);
    },
  };
}
