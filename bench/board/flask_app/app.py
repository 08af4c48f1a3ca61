# The 2015 article's Flask + Peewee board (examples/app.py), unchanged but for where it finds
# Postgres and its template, kept as the baseline our board is measured against
# (bench/board/run.sh). Do not improve it.
import datetime
import os

from flask import Flask, request, render_template, g
from peewee import PostgresqlDatabase, Model, CharField, TextField, DateTimeField, OperationalError, ProgrammingError

DEBUG = False

psql_db = PostgresqlDatabase(
    os.environ.get("PGDATABASE", "postgres"),
    user=os.environ.get("PGUSER", "postgres"),
    host=os.environ.get("PGHOST", "postgres"),
    port=int(os.environ.get("PGPORT", "5432")),
)


class Comment(Model):
    title = CharField()
    body = TextField()
    date = DateTimeField()
    author = CharField()

    class Meta:
        database = psql_db


try:
    Comment.create_table()
except (OperationalError, ProgrammingError):
    print("Comment table already exists!")

# The article's template, kept unmodified with its stack in examples/.
app = Flask(__name__, template_folder="../../../examples/templates")
app.config.from_object(__name__)


@app.before_request
def before_request():
    g.db = psql_db
    g.db.connect(reuse_if_open=True)


@app.after_request
def after_request(response):
    g.db.close()
    return response


@app.route('/', methods=['GET', 'POST'])
def index():
    if request.method == 'POST':
        comment = Comment.create(
            title=request.form['title'],
            body=request.form['text'],
            author=request.form['author'],
            date=datetime.datetime.now())
        comment.save()
    comments = Comment.select().order_by(Comment.date.desc())
    return render_template('index.html', comments=comments)
