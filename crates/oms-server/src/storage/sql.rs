//! A small SQL builder that numbers placeholders `$1, $2, …`, which both
//! PostgreSQL and SQLite (through sqlx) understand, so each statement is
//! written once for both databases.

use sqlx::any::{Any, AnyArguments, AnyQueryResult, AnyRow};
use sqlx::{Arguments, Encode, Executor, Type};

/// SQL text plus its bound arguments.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
    /// Write `?` instead of `$N` (see [`Sql::anonymous`]).
    anonymous: bool,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            ..Self::default()
        }
    }

    /// A statement whose placeholders are `?` on SQLite. SQLite finds the
    /// name of each `$N` parameter by a linear scan, so binding a statement
    /// of n named parameters costs O(n²): noticeable for multi-row INSERTs
    /// of thousands of parameters (2,000 rows × 4 columns: ~0.1 s each).
    /// Anonymous `?` parameters bind in O(1). Use it for big batches; `$N`
    /// stays the rule elsewhere.
    pub(crate) fn anonymous(text: &str, backend: super::Backend) -> Self {
        Self {
            anonymous: backend == super::Backend::Sqlite,
            ..Self::new(text)
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any> + Send,
    {
        self.count += 1;
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.count.to_string());
        }
        // Encoding into AnyArguments only fails for types Any cannot carry,
        // which the bounds above exclude.
        let _ = self.args.add(value);
        self
    }

    /// Appends `(v1, v2, …), (…)` rows for a multi-row INSERT.
    pub(crate) fn values<R>(
        &mut self,
        rows: impl IntoIterator<Item = R>,
        mut row: impl FnMut(&mut Tuple<'_>, R),
    ) -> &mut Self {
        self.text.push_str(" VALUES ");
        for (i, item) in rows.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.text.push('(');
            let mut tuple = Tuple {
                sql: self,
                first: true,
            };
            row(&mut tuple, item);
            self.text.push(')');
        }
        self
    }

    pub(crate) async fn execute<'e, E>(self, executor: E) -> Result<AnyQueryResult, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        sqlx::query_with(&self.text, self.args)
            .execute(executor)
            .await
    }

    pub(crate) async fn fetch_all<'e, E>(self, executor: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        sqlx::query_with(&self.text, self.args)
            .fetch_all(executor)
            .await
    }

    pub(crate) async fn fetch_optional<'e, E>(
        self,
        executor: E,
    ) -> Result<Option<AnyRow>, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        sqlx::query_with(&self.text, self.args)
            .fetch_optional(executor)
            .await
    }

    pub(crate) async fn fetch_one<'e, E>(self, executor: E) -> Result<AnyRow, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        sqlx::query_with(&self.text, self.args)
            .fetch_one(executor)
            .await
    }
}

/// One row of a `VALUES` list.
pub(crate) struct Tuple<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl Tuple<'_> {
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any> + Send,
    {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}
