//! A small SQL builder that numbers placeholders `$1, $2, …`, which both
//! PostgreSQL and SQLite (through sqlx) understand, so each statement is
//! written once for both databases.
//!
//! The bound values are kept as [`Value`]s, not encoded at once, so the same
//! statements can also run directly on a SQLite connection of the group
//! commit's own ([`Sql::run_native`], rusqlite) without a second copy of
//! their text.

use sqlx::any::{Any, AnyArguments, AnyQueryResult, AnyRow};
use sqlx::{Arguments, Executor};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A typed NULL (PostgreSQL infers parameter types from it).
    Null(Null),
    Bool(bool),
    Int(i32),
    BigInt(i64),
    Double(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// The type of a NULL [`Value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Null {
    Bool,
    Int,
    BigInt,
    Double,
    Text,
    Blob,
}

/// A Rust value [`Sql::bind`] takes.
pub(crate) trait Bind {
    /// The NULL of this type (for `Option<Self>`).
    const NULL: Null;
    fn into_value(self) -> Value;
}

macro_rules! bind_as {
    ($($rust:ty => $variant:ident),* $(,)?) => {$(
        impl Bind for $rust {
            const NULL: Null = Null::$variant;
            fn into_value(self) -> Value {
                Value::$variant(self.into())
            }
        }
    )*};
}

bind_as!(
    bool => Bool,
    i32 => Int,
    i64 => BigInt,
    f64 => Double,
    String => Text,
    &str => Text,
    Vec<u8> => Blob,
);

impl<T: Bind> Bind for Option<T> {
    const NULL: Null = T::NULL;
    fn into_value(self) -> Value {
        match self {
            Some(value) => value.into_value(),
            None => Value::Null(T::NULL),
        }
    }
}

impl Value {
    /// Encodes into sqlx's `Any` arguments. Encoding only fails for types
    /// `Any` cannot carry, which [`Value`] does not hold.
    fn add_to(self, args: &mut AnyArguments<'static>) {
        let _ = match self {
            Value::Null(Null::Bool) => args.add(None::<bool>),
            Value::Null(Null::Int) => args.add(None::<i32>),
            Value::Null(Null::BigInt) => args.add(None::<i64>),
            Value::Null(Null::Double) => args.add(None::<f64>),
            Value::Null(Null::Text) => args.add(None::<String>),
            Value::Null(Null::Blob) => args.add(None::<Vec<u8>>),
            Value::Bool(v) => args.add(v),
            Value::Int(v) => args.add(v),
            Value::BigInt(v) => args.add(v),
            Value::Double(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Blob(v) => args.add(v),
        };
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null(_) => ValueRef::Null,
            Value::Bool(v) => ValueRef::Integer(i64::from(*v)),
            Value::Int(v) => ValueRef::Integer(i64::from(*v)),
            Value::BigInt(v) => ValueRef::Integer(*v),
            Value::Double(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// SQL text plus its bound arguments.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
    /// Write `?` instead of `$N` (see [`Sql::anonymous`]).
    anonymous: bool,
    /// Where each statement closed by [`Sql::end_statement`] ends: (text
    /// length, values bound) at that point.
    ends: Vec<(usize, usize)>,
    /// A condition every row list ([`Sql::open_values`]) is inserted under
    /// (see [`Sql::gate`]).
    gate: Option<&'static str>,
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

    /// Ends a statement of a batch (`; `). [`Sql::run_native`] runs a batch
    /// statement by statement, split where this was called.
    pub(crate) fn end_statement(&mut self) -> &mut Self {
        self.ends.push((self.text.len(), self.values.len()));
        self.text.push_str("; ");
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<T: Bind>(&mut self, value: T) -> &mut Self {
        self.values.push(value.into_value());
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.values.len().to_string());
        }
        self
    }

    /// From now on, the rows of each INSERT are inserted only if `condition`
    /// holds (PostgreSQL: `INSERT … SELECT * FROM (VALUES …) AS v WHERE
    /// condition`); `None`: plain `VALUES`. Lets one statement of
    /// data-modifying CTEs write all or nothing.
    pub(crate) fn gate(&mut self, condition: Option<&'static str>) -> &mut Self {
        self.gate = condition;
        self
    }

    /// Starts an INSERT's row list: ` VALUES ` (or its gated form).
    pub(crate) fn open_values(&mut self) -> &mut Self {
        self.text.push_str(match self.gate {
            None => " VALUES ",
            Some(_) => " SELECT * FROM (VALUES ",
        });
        self
    }

    /// Ends the row list [`Sql::open_values`] started.
    pub(crate) fn close_values(&mut self) -> &mut Self {
        if let Some(condition) = self.gate {
            self.text.push_str(") AS v WHERE ");
            self.text.push_str(condition);
        }
        self
    }

    /// A copy with the same text and arguments, to run the statement again
    /// (the group commit's fallback).
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            text: self.text.clone(),
            values: self.values.clone(),
            anonymous: self.anonymous,
            ends: self.ends.clone(),
            gate: self.gate,
        }
    }

    /// Appends `(v1, v2, …), (…)` rows for a multi-row INSERT.
    pub(crate) fn values<R>(
        &mut self,
        rows: impl IntoIterator<Item = R>,
        mut row: impl FnMut(&mut Tuple<'_>, R),
    ) -> &mut Self {
        self.open_values();
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
        self.close_values()
    }

    /// The text and sqlx arguments.
    fn into_query(self) -> (String, AnyArguments<'static>) {
        let mut args = AnyArguments::default();
        args.reserve(self.values.len(), 0);
        for value in self.values {
            value.add_to(&mut args);
        }
        (self.text, args)
    }

    pub(crate) async fn execute<'e, E>(self, executor: E) -> Result<AnyQueryResult, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        let (text, args) = self.into_query();
        sqlx::query_with(&text, args).execute(executor).await
    }

    pub(crate) async fn fetch_all<'e, E>(self, executor: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        let (text, args) = self.into_query();
        sqlx::query_with(&text, args).fetch_all(executor).await
    }

    pub(crate) async fn fetch_optional<'e, E>(
        self,
        executor: E,
    ) -> Result<Option<AnyRow>, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        let (text, args) = self.into_query();
        sqlx::query_with(&text, args).fetch_optional(executor).await
    }

    pub(crate) async fn fetch_one<'e, E>(self, executor: E) -> Result<AnyRow, sqlx::Error>
    where
        E: Executor<'e, Database = Any>,
    {
        let (text, args) = self.into_query();
        sqlx::query_with(&text, args).fetch_one(executor).await
    }

    /// The statements of a batch: text (without its `; `) and values, split
    /// where [`Sql::end_statement`] was called; a rest after the last end
    /// that is not blank is a statement too.
    fn statements(&self) -> Vec<(&str, &[Value])> {
        let mut statements = Vec::with_capacity(self.ends.len() + 1);
        let (mut text_start, mut value_start) = (0, 0);
        let rest = (self.text.len(), self.values.len());
        for &(text_end, value_end) in self.ends.iter().chain(std::iter::once(&rest)) {
            let text = self.text.get(text_start..text_end).unwrap_or_default();
            if !text.trim().is_empty() {
                let values = self.values.get(value_start..value_end).unwrap_or_default();
                statements.push((text, values));
            }
            // Past the `; ` that ended it.
            text_start = text_end + 2;
            value_start = value_end;
        }
        statements
    }

    /// Runs the batch on a SQLite connection directly, on the caller's
    /// thread: statement by statement, each prepared once and kept in the
    /// connection's statement cache (a batch's statements come in a few
    /// shapes), every row handed to `row`. Parameters are bound by position:
    /// anonymous `?` placeholders ([`Sql::anonymous`], the fast kind for big
    /// batches) or this type's `$N`, which SQLite numbers in order of first
    /// appearance, the order they were bound in.
    pub(crate) fn run_native(
        &self,
        connection: &rusqlite::Connection,
        mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        for (text, values) in self.statements() {
            let mut statement = connection.prepare_cached(text)?;
            for (i, value) in values.iter().enumerate() {
                statement.raw_bind_parameter(i + 1, value)?;
            }
            let mut rows = statement.raw_query();
            while let Some(found) = rows.next()? {
                row(found)?;
            }
        }
        Ok(())
    }
}

/// One row of a `VALUES` list.
pub(crate) struct Tuple<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl Tuple<'_> {
    pub(crate) fn bind<T: Bind>(&mut self, value: T) -> &mut Self {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}
