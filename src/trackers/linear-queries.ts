// Every GraphQL document the Linear tracker sends, in one place, so the test rig can check each one
// against Linear's schema. Field and argument names are Linear's own (see its published schema);
// nested lists are read one page deep, which covers any issue with up to 100 sub-issues or blockers.

/** What the tracker reads of every issue it looks at. */
const ISSUE_FIELDS = /* GraphQL */ `
  fragment OrchIssue on Issue {
    id
    identifier
    title
    description
    priority
    url
    updatedAt
    state { name type }
    team { key }
    labels(first: 100) { nodes { name } }
    parent { identifier }
    children(first: 100) { nodes { identifier state { type } } }
    inverseRelations(first: 100) { nodes { type issue { identifier state { type } } } }
  }
`;

/** A page of issues matching a filter, most recently updated first. */
export const ISSUES_QUERY = /* GraphQL */ `
  query OrchIssues($filter: IssueFilter!, $first: Int!, $after: String) {
    issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
      nodes { ...OrchIssue }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${ISSUE_FIELDS}
`;

/** One issue, by id or identifier. */
export const ISSUE_QUERY = /* GraphQL */ `
  query OrchIssue($id: String!) {
    issue(id: $id) { ...OrchIssue }
  }
  ${ISSUE_FIELDS}
`;

/** What a report needs: where the issue is, where its team's workflow can take it, and its comments. */
export const REPORT_TARGET_QUERY = /* GraphQL */ `
  query OrchReportTarget($id: String!) {
    issue(id: $id) {
      id
      identifier
      state { id name type }
      team { key states(first: 100) { nodes { id name type } } }
      comments(first: 100) { nodes { id body } pageInfo { hasNextPage endCursor } }
    }
  }
`;

/** The next page of an issue's comments. */
export const COMMENTS_QUERY = /* GraphQL */ `
  query OrchComments($id: String!, $after: String) {
    issue(id: $id) {
      comments(first: 100, after: $after) { nodes { id body } pageInfo { hasNextPage endCursor } }
    }
  }
`;

export const MOVE_ISSUE_MUTATION = /* GraphQL */ `
  mutation OrchMoveIssue($id: String!, $stateId: String!) {
    issueUpdate(id: $id, input: { stateId: $stateId }) { success }
  }
`;

export const CREATE_COMMENT_MUTATION = /* GraphQL */ `
  mutation OrchCreateComment($issueId: String!, $body: String!) {
    commentCreate(input: { issueId: $issueId, body: $body }) { success comment { id body } }
  }
`;

export const UPDATE_COMMENT_MUTATION = /* GraphQL */ `
  mutation OrchUpdateComment($id: String!, $body: String!) {
    commentUpdate(id: $id, input: { body: $body }) { success comment { id body } }
  }
`;

export const LINEAR_DOCUMENTS = {
  ISSUES_QUERY,
  ISSUE_QUERY,
  REPORT_TARGET_QUERY,
  COMMENTS_QUERY,
  MOVE_ISSUE_MUTATION,
  CREATE_COMMENT_MUTATION,
  UPDATE_COMMENT_MUTATION,
} as const;

// ---------------------------------------------------------------- the answers' shapes

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** An issue as ISSUE_FIELDS reads it. */
export interface LinearIssueNode {
  id: string;
  identifier: string;
  title: string;
  description: string | null;
  /** 0 none, 1 urgent, 2 high, 3 medium, 4 low. */
  priority: number;
  url: string;
  updatedAt: string;
  state: { name: string; type: string };
  team: { key: string };
  labels: { nodes: { name: string }[] };
  parent: { identifier: string } | null;
  children: { nodes: { identifier: string; state: { type: string } }[] };
  inverseRelations: { nodes: { type: string; issue: { identifier: string; state: { type: string } } }[] };
}

export interface IssuesAnswer {
  issues: { nodes: LinearIssueNode[]; pageInfo: PageInfo };
}

export interface IssueAnswer {
  issue: LinearIssueNode;
}

export interface LinearComment {
  id: string;
  body: string;
}

export interface ReportTargetAnswer {
  issue: {
    id: string;
    identifier: string;
    state: { id: string; name: string; type: string };
    team: { key: string; states: { nodes: { id: string; name: string; type: string }[] } };
    comments: { nodes: LinearComment[]; pageInfo: PageInfo };
  };
}

export interface CommentsAnswer {
  issue: { comments: { nodes: LinearComment[]; pageInfo: PageInfo } };
}

export interface MoveIssueAnswer {
  issueUpdate: { success: boolean };
}

export interface CreateCommentAnswer {
  commentCreate: { success: boolean; comment: LinearComment };
}

export interface UpdateCommentAnswer {
  commentUpdate: { success: boolean; comment: LinearComment };
}
