-- wrk script: posts the board's form, with a CSRF cookie and the same token in the form.
local token = string.rep("ab", 32)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "board_csrf=" .. token
wrk.headers["Sec-Fetch-Site"] = "same-origin"
wrk.body = "title=Benchmark&author=wrk&text=Posted+under+load&csrf_token=" .. token
