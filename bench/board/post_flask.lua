-- wrk script: posts the original Flask board's form.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "title=Benchmark&author=wrk&text=Posted+under+load"
